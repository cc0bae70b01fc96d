package cache

import (
	"sync"
	"time"
)

// Breaker is a circuit breaker for the state store: after failures
// consecutive failed calls it opens for open, and calls fail fast (a paused
// store would otherwise cost every request the call timeout). After that,
// one probe call at a time is let through until one succeeds.
type Breaker struct {
	mu       sync.Mutex
	failures int
	limit    int
	open     time.Duration
	until    time.Time
	probing  bool
	now      func() time.Time
}

// NewBreaker returns a closed breaker; failures < 1 means 5, open ≤ 0
// means 5 s.
func NewBreaker(failures int, open time.Duration) *Breaker {
	if failures < 1 {
		failures = 5
	}
	if open <= 0 {
		open = 5 * time.Second
	}
	return &Breaker{limit: failures, open: open, now: time.Now}
}

// Allow reports whether a call may go ahead.
func (b *Breaker) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures < b.limit {
		return true
	}
	if b.now().Before(b.until) || b.probing {
		return false
	}
	b.probing = true
	return true
}

// Record reports a call's outcome.
func (b *Breaker) Record(ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
	if ok {
		b.failures = 0
		return
	}
	b.failures++
	if b.failures >= b.limit {
		b.until = b.now().Add(b.open)
	}
}

// Open reports whether calls are failing fast now.
func (b *Breaker) Open() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures >= b.limit && (b.now().Before(b.until) || b.probing)
}
