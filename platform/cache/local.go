package cache

import (
	"sync"
	"time"
)

// Local is a small in-process map of recent values with a time to live and
// a size bound. It knows nothing of other replicas: Checked builds the
// coherent cache on it.
type Local[T any] struct {
	mu      sync.Mutex
	entries map[string]localEntry[T]
	max     int
	now     func() time.Time
}

type localEntry[T any] struct {
	v       T
	expires time.Time
}

// NewLocal returns a Local holding at most max entries.
func NewLocal[T any](max int) *Local[T] {
	return &Local[T]{entries: map[string]localEntry[T]{}, max: max, now: time.Now}
}

// Get returns the live value under key.
func (l *Local[T]) Get(key string) (T, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key]
	if !ok || l.now().After(e.expires) {
		var zero T
		return zero, false
	}
	return e.v, true
}

// Set stores v under key for ttl (nothing when ttl ≤ 0).
func (l *Local[T]) Set(key string, v T, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.entries) >= l.max {
		// Drop expired entries; if all are live, start over rather than
		// grow without bound.
		for k, e := range l.entries {
			if now.After(e.expires) {
				delete(l.entries, k)
			}
		}
		if len(l.entries) >= l.max {
			l.entries = map[string]localEntry[T]{}
		}
	}
	l.entries[key] = localEntry[T]{v: v, expires: now.Add(ttl)}
}

// Delete removes key.
func (l *Local[T]) Delete(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, key)
}
