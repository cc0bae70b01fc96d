package adapters

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pixshare/platform/apperror"
)

// blockingHasher holds every call until released, counting how many run.
type blockingHasher struct {
	running, peak atomic.Int64
	release       chan struct{}
}

func (b *blockingHasher) run() {
	n := b.running.Add(1)
	for {
		p := b.peak.Load()
		if n <= p || b.peak.CompareAndSwap(p, n) {
			break
		}
	}
	<-b.release
	b.running.Add(-1)
}

func (b *blockingHasher) Hash(string) (string, error)         { b.run(); return "h", nil }
func (b *blockingHasher) Verify(string, string) (bool, error) { b.run(); return true, nil }

func TestLimitedHasherCapsConcurrencyThen503(t *testing.T) {
	t.Parallel()
	inner := &blockingHasher{release: make(chan struct{})}
	h := NewLimitedHasher(inner, 2, 50*time.Millisecond)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = h.Verify("p", "h") }()
	}
	for inner.running.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	// Both slots busy: a third caller waits briefly, then is turned away
	// with 503 and a Retry-After, and never reached the hasher.
	_, err := h.Verify("p", "h")
	e, ok := apperror.As(err)
	if !ok || e.Kind != apperror.Unavailable || e.RetryAfter <= 0 {
		t.Fatalf("third concurrent verify: want 503 with Retry-After, got %v", err)
	}
	if _, err := h.Hash("p"); !apperror.Is(err, apperror.Unavailable) {
		t.Fatalf("hash while full: %v", err)
	}
	close(inner.release)
	wg.Wait()
	if p := inner.peak.Load(); p != 2 {
		t.Fatalf("peak concurrent hashes %d, want 2", p)
	}
	// Slots come back: calls succeed again.
	if ok, err := h.Verify("p", "h"); err != nil || !ok {
		t.Fatalf("after release: %v %v", ok, err)
	}
}
