package outbox

import (
	"context"
	"errors"
	"sync"
	"testing"

	"go.uber.org/zap"

	"gorm.io/gorm"

	"pixshare/platform/database"
	"pixshare/platform/database/dbtest"
	"pixshare/platform/pubsub"
)

// recorder is a hand-written pubsub.Publisher that can fail.
type recorder struct {
	mu     sync.Mutex
	got    []pubsub.Message
	failOn int // fail the n-th call (1-based); 0 never
	calls  int
}

func (r *recorder) Publish(_ context.Context, _ string, m pubsub.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.calls == r.failOn {
		return errors.New("broker down")
	}
	r.got = append(r.got, m)
	return nil
}

func TestRelayOrderAndFailure(t *testing.T) {
	db := dbtest.SQLite(t)
	if err := Migrate(db); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, typ := range []string{"a", "b", "c", "d"} {
		id, err := Enqueue(db, "topic", typ, map[string]string{"t": typ})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	pub := &recorder{failOn: 3}
	relay := NewRelay(db, pub, RelayConfig{Batch: 10}, zap.NewNop())
	n, err := relay.Flush(context.Background())
	if err == nil || n != 2 {
		t.Fatalf("first flush: %d, %v; want 2 published and the failure", n, err)
	}
	st, _ := Pending(context.Background(), db)
	if st.Pending != 2 {
		t.Fatalf("%d pending after a failure, want 2 (stopped to keep order)", st.Pending)
	}
	var failed Message
	db.First(&failed, "id = ?", ids[2])
	if failed.Attempts != 1 || failed.LastError == "" {
		t.Fatalf("the failure was not recorded: %+v", failed)
	}
	if n, err := relay.Flush(context.Background()); err != nil || n != 2 {
		t.Fatalf("second flush: %d, %v", n, err)
	}
	var order []string
	for _, m := range pub.got {
		order = append(order, m.Type)
	}
	if got := len(order); got != 4 || order[0] != "a" || order[3] != "d" || pub.got[2].ID != ids[2] {
		t.Fatalf("published %v", order)
	}

	// A rolled-back transaction leaves no row.
	_ = db.Transaction(func(tx *gorm.DB) error {
		if _, err := Enqueue(tx, "topic", "x", nil); err != nil {
			return err
		}
		return errors.New("rollback")
	})
	if st, _ := Pending(context.Background(), db); st.Pending != 0 {
		t.Fatal("an event of a rolled-back transaction stayed in the outbox")
	}
}

// TestCommitWakesRelay: a transaction that enqueues an event wakes the
// relay once it commits (not before, and not when it rolls back), so the
// event leaves at once instead of at the next poll.
func TestCommitWakesRelay(t *testing.T) {
	db := dbtest.SQLite(t)
	if err := Migrate(db); err != nil {
		t.Fatal(err)
	}
	relay := NewRelay(db, &recorder{}, RelayConfig{}, zap.NewNop())
	woken := func() bool {
		select {
		case <-relay.nudge:
			return true
		default:
			return false
		}
	}
	ctx := context.Background()
	err := database.Transact(ctx, db, func(tx *gorm.DB) error {
		if _, err := Enqueue(tx, "topic", "a", nil); err != nil {
			return err
		}
		if woken() {
			t.Error("the relay was woken before the commit")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !woken() {
		t.Fatal("a committed event did not wake the relay")
	}
	_ = database.Transact(ctx, db, func(tx *gorm.DB) error {
		if _, err := Enqueue(tx, "topic", "b", nil); err != nil {
			return err
		}
		return errors.New("rollback")
	})
	if woken() {
		t.Fatal("a rolled-back event woke the relay")
	}
}
