package ports

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"gorm.io/gorm"

	"pixshare/platform/database/dbtest"
	"pixshare/platform/pubsub"
	"pixshare/workers/internal/adapters/intake"
)

// deadLetters records what the queue dead-lettered.
type deadLetters struct {
	mu   sync.Mutex
	sent []string
	fail error
}

func (d *deadLetters) DeadLetter(_ context.Context, ev pubsub.Event, reason error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return d.fail
	}
	d.sent = append(d.sent, ev.ID+": "+reason.Error())
	return nil
}

func (d *deadLetters) all() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.sent...)
}

func newQueue(t *testing.T, db *gorm.DB, workers int) (*Queue, *intake.Store, *deadLetters) {
	t.Helper()
	if err := intake.Migrate(db); err != nil {
		t.Fatal(err)
	}
	store := intake.New(db)
	dead := &deadLetters{}
	q := NewQueue(store, dead, workers, zap.NewNop())
	q.retryMin, q.retryMax = 5*time.Millisecond, 20*time.Millisecond
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q.Stop(ctx)
	})
	return q, store, dead
}

func ids(t *testing.T, s *intake.Store) []string {
	t.Helper()
	evs, err := s.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.ID)
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func event(id string) pubsub.Event {
	return pubsub.Event{ID: id, Type: "t", Topic: "thumbnails", Source: "post", Data: []byte(`{"n":"` + id + `"}`)}
}

// TestQueueAcksOnceRecordedAndForgetsWhenDone: a delivery is answered as
// soon as it is recorded, while its work still runs; the record stays
// until the work ended, and the work sees the event as delivered.
func TestQueueAcksOnceRecordedAndForgetsWhenDone(t *testing.T) {
	q, store, _ := newQueue(t, dbtest.SQLite(t), 2)
	release := make(chan struct{})
	var got atomic.Value
	h := q.Handlers(map[string]pubsub.Handler{"t": func(_ context.Context, ev pubsub.Event) error {
		got.Store(ev)
		<-release
		return nil
	}})["t"]
	if err := h(context.Background(), event("e1")); err != nil {
		t.Fatalf("take: %v", err)
	}
	if rec := ids(t, store); len(rec) != 1 || rec[0] != "e1" {
		t.Fatalf("records while working = %v, want [e1]", rec)
	}
	close(release)
	waitFor(t, "the record to go", func() bool { return len(ids(t, store)) == 0 })
	if ev := got.Load().(pubsub.Event); ev.Source != "post" || string(ev.Data) != `{"n":"e1"}` {
		t.Fatalf("the work saw %+v", ev)
	}
}

// TestQueueBoundsTheWork: with two workers, two pieces of work run at once
// and a third delivery is not taken (not answered, not recorded) until one
// of them ends.
func TestQueueBoundsTheWork(t *testing.T) {
	q, store, _ := newQueue(t, dbtest.SQLite(t), 2)
	var running, most atomic.Int32
	release := make(chan struct{})
	h := q.Handlers(map[string]pubsub.Handler{"t": func(context.Context, pubsub.Event) error {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		return nil
	}})["t"]
	for _, id := range []string{"a", "b"} {
		if err := h(context.Background(), event(id)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "two workers to run", func() bool { return running.Load() == 2 })
	third := make(chan error, 1)
	go func() { third <- h(context.Background(), event("c")) }()
	select {
	case err := <-third:
		t.Fatalf("a third delivery was answered (%v) while both workers were busy", err)
	case <-time.After(100 * time.Millisecond):
	}
	if rec := ids(t, store); len(rec) != 2 {
		t.Fatalf("records = %v, want only the two taken", rec)
	}
	release <- struct{}{}
	if err := <-third; err != nil {
		t.Fatal(err)
	}
	close(release)
	waitFor(t, "every record to go", func() bool { return len(ids(t, store)) == 0 })
	if most.Load() != 2 {
		t.Fatalf("at most %d ran at once, want 2", most.Load())
	}
}

// TestQueueRetriesUntilDone: an error that is not poison is retried by
// the queue, the record kept until the work succeeds.
func TestQueueRetriesUntilDone(t *testing.T) {
	q, store, dead := newQueue(t, dbtest.SQLite(t), 1)
	var calls atomic.Int32
	var sawRecord atomic.Bool
	h := q.Handlers(map[string]pubsub.Handler{"t": func(context.Context, pubsub.Event) error {
		if calls.Add(1) < 3 {
			if len(ids(t, store)) == 1 {
				sawRecord.Store(true)
			}
			return errors.New("post service unavailable")
		}
		return nil
	}})["t"]
	if err := h(context.Background(), event("e")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the work to succeed", func() bool { return calls.Load() == 3 && len(ids(t, store)) == 0 })
	if !sawRecord.Load() {
		t.Fatal("the record was gone while the work still failed")
	}
	if d := dead.all(); len(d) != 0 {
		t.Fatalf("dead-lettered %v", d)
	}
}

// TestQueueDeadLettersPoison: a poison error and a panic that keeps
// happening end differently: poison is dead-lettered and forgotten; the
// panic is retried like any failure.
func TestQueueDeadLettersPoison(t *testing.T) {
	q, store, dead := newQueue(t, dbtest.SQLite(t), 2)
	var panics atomic.Int32
	routes := q.Handlers(map[string]pubsub.Handler{
		"t": func(context.Context, pubsub.Event) error { return pubsub.Poison(errors.New("corrupt picture")) },
		"p": func(context.Context, pubsub.Event) error {
			if panics.Add(1) < 2 {
				panic("decoder bug")
			}
			return nil
		},
	})
	if err := routes["t"](context.Background(), event("bad")); err != nil {
		t.Fatal(err)
	}
	ev := event("boom")
	ev.Type = "p"
	if err := routes["p"](context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both records to go", func() bool { return len(ids(t, store)) == 0 })
	d := dead.all()
	if len(d) != 1 || d[0] != "bad: poison message: corrupt picture" {
		t.Fatalf("dead letters = %v, want only the poison one", d)
	}
	if panics.Load() != 2 {
		t.Fatalf("the panicking work ran %d times, want 2 (retried once)", panics.Load())
	}
}

// TestQueueKeepsPoisonUntilDeadLettered: while the dead-letter topic
// cannot be published to, the poison event stays recorded.
func TestQueueKeepsPoisonUntilDeadLettered(t *testing.T) {
	q, store, dead := newQueue(t, dbtest.SQLite(t), 1)
	dead.fail = errors.New("broker down")
	var calls atomic.Int32
	h := q.Handlers(map[string]pubsub.Handler{"t": func(context.Context, pubsub.Event) error {
		calls.Add(1)
		return pubsub.Poison(errors.New("corrupt"))
	}})["t"]
	if err := h(context.Background(), event("bad")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a few attempts", func() bool { return calls.Load() >= 3 })
	if rec := ids(t, store); len(rec) != 1 {
		t.Fatalf("records = %v, want the poison event kept", rec)
	}
	dead.mu.Lock()
	dead.fail = nil
	dead.mu.Unlock()
	waitFor(t, "the record to go", func() bool { return len(ids(t, store)) == 0 })
}

// TestQueueResumesAfterARestart: what a stopped (or killed) queue had taken
// and not finished is run by the next one, oldest first; a redelivery of
// an event being resumed is acknowledged without running it twice.
func TestQueueResumesAfterARestart(t *testing.T) {
	db := dbtest.SQLite(t)
	first, store, _ := newQueue(t, db, 1)
	block := make(chan struct{})
	h := first.Handlers(map[string]pubsub.Handler{"t": func(ctx context.Context, ev pubsub.Event) error {
		<-block
		return errors.New("the process dies before this returns")
	}})["t"]
	if err := h(context.Background(), event("old")); err != nil {
		t.Fatal(err)
	}
	// Recorded by a process that died before taking it (a record the
	// worker never saw).
	if err := store.Add(context.Background(), event("next")); err != nil {
		t.Fatal(err)
	}
	stop, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	first.Stop(stop) // the work under way does not end in time
	cancel()
	if err := h(context.Background(), event("late")); !errors.Is(err, errStopping) {
		t.Fatalf("a delivery while stopping = %v, want errStopping", err)
	}
	close(block)

	second, _, _ := newQueue(t, db, 1)
	var mu sync.Mutex
	var order []string
	gate := make(chan struct{})
	h2 := second.Handlers(map[string]pubsub.Handler{"t": func(_ context.Context, ev pubsub.Event) error {
		<-gate
		mu.Lock()
		order = append(order, ev.ID)
		mu.Unlock()
		return nil
	}})["t"]
	second.Start()
	waitFor(t, "the oldest to be resumed", func() bool { return second.isActive("old") })
	// A redelivery of the event under way is answered at once.
	if err := h2(context.Background(), event("old")); err != nil {
		t.Fatal(err)
	}
	close(gate)
	waitFor(t, "the resumed work to end", func() bool { return len(ids(t, store)) == 0 })
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(order) != "[old next]" {
		t.Fatalf("resumed %v, want [old next] (each once, oldest first)", order)
	}
}
