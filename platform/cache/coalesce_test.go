package cache

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// source is a stamp store whose reads take their snapshot when they start;
// its first read can be held in flight, so a test can change a stamp under
// a read.
type source struct {
	mu      sync.Mutex
	stamps  map[string]Stamp
	calls   atomic.Int32
	gate    chan struct{} // the first read waits on it after its snapshot
	started chan struct{}
	delay   time.Duration
}

func (s *source) set(sub string, st Stamp) {
	s.mu.Lock()
	s.stamps[sub] = st
	s.mu.Unlock()
}

func (s *source) read(_ context.Context, subjects []string) map[string]Stamp {
	n := s.calls.Add(1)
	s.mu.Lock()
	out := map[string]Stamp{}
	for _, sub := range subjects {
		out[sub] = s.stamps[sub]
	}
	s.mu.Unlock()
	if n == 1 && s.gate != nil {
		close(s.started)
		<-s.gate
	}
	time.Sleep(s.delay)
	return out
}

func TestCoalescedReadNeverPredatesTheRequest(t *testing.T) {
	src := &source{stamps: map[string]Stamp{"user:a": "v1"}, gate: make(chan struct{}), started: make(chan struct{})}
	c := newCoalescer(16, src.read)

	// A read of the old stamp is in flight...
	first := make(chan map[string]Stamp)
	go func() { first <- c.Read(context.Background(), []string{"user:a"}) }()
	<-src.started
	// ...when a change lands and its response leaves. A request that starts
	// after that must see the change, though a read of the subject is in
	// flight.
	src.set("user:a", "v2")
	second := make(chan map[string]Stamp)
	go func() { second <- c.Read(context.Background(), []string{"user:a"}) }()
	// Let the second request join (wrongly, it would be) the read in flight.
	time.Sleep(20 * time.Millisecond)
	close(src.gate)
	if got := (<-first)["user:a"]; got != "v1" {
		t.Fatalf("first read = %q, want v1, the stamp when it started", got)
	}
	if got := (<-second)["user:a"]; got != "v2" {
		t.Fatalf("a request that began after the change read %q; it must read v2", got)
	}
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("%d reads of the store, want 2", n)
	}
}

func TestConcurrentReadsShareBulkReads(t *testing.T) {
	src := &source{stamps: map[string]Stamp{}, delay: 2 * time.Millisecond}
	for i := 0; i < 50; i++ {
		src.set(fmt.Sprintf("user:%d", i), Stamp(fmt.Sprintf("s%d", i)))
	}
	c := newCoalescer(256, src.read)
	const requests = 400
	var wg sync.WaitGroup
	var wrong atomic.Int32
	for i := 0; i < requests; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sub := fmt.Sprintf("user:%d", i%50)
			if got := c.Read(context.Background(), []string{sub, "user:missing"}); got[sub] != Stamp(fmt.Sprintf("s%d", i%50)) {
				wrong.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if wrong.Load() > 0 {
		t.Fatalf("%d requests got another subject's stamp", wrong.Load())
	}
	// 400 requests at once: the first reads alone, the rest share the
	// next reads. Without coalescing there would be 400.
	if n := src.calls.Load(); n > requests/4 {
		t.Fatalf("%d store reads for %d concurrent requests; coalescing should need far fewer", n, requests)
	}
	// The last batch's runner goes idle just after its members return.
	for i := 0; ; i++ {
		c.mu.Lock()
		idle := !c.busy && c.next == nil
		c.mu.Unlock()
		if idle {
			break
		}
		if i == 1000 {
			t.Fatal("the coalescer did not go idle")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFullBatchReadsAlone(t *testing.T) {
	src := &source{stamps: map[string]Stamp{"a": "1", "b": "2", "c": "3"}, gate: make(chan struct{}), started: make(chan struct{})}
	c := newCoalescer(2, src.read)
	go c.Read(context.Background(), []string{"a"})
	<-src.started
	done := make(chan struct{})
	go func() { c.Read(context.Background(), []string{"a", "b"}); close(done) }()
	time.Sleep(10 * time.Millisecond)
	// The waiting batch holds 2 subjects: this one would overflow it.
	if got := c.Read(context.Background(), []string{"c"}); got["c"] != "3" {
		t.Fatalf("overflowing read = %v", got)
	}
	close(src.gate)
	<-done
}

func TestWaiterGivesUpWithItsContext(t *testing.T) {
	src := &source{stamps: map[string]Stamp{"a": "1"}, gate: make(chan struct{}), started: make(chan struct{})}
	c := newCoalescer(16, src.read)
	go c.Read(context.Background(), []string{"a"})
	<-src.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := c.Read(ctx, []string{"a"}); got["a"] != "" {
		t.Fatalf("a request whose context ended got %v, want nothing usable", got)
	}
	close(src.gate)
}
