// Package cachetest holds an in-memory cache.Cache for unit tests of the
// layers above the state store. It stands in for the Dapr state store,
// which needs a sidecar: platform/cache's own tests and the e2e suites use
// the real one. Like the state store it keeps JSON, so a value comes back
// only if it survives encoding, and it counts reads.
package cachetest

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Store is an in-memory cache.Cache; its zero value is ready to use. TTLs
// are ignored: tests that need an entry to age write it with the time
// they want it to carry.
type Store struct {
	mu    sync.Mutex
	data  map[string][]byte
	reads int
}

// Get implements cache.Cache.
func (s *Store) Get(_ context.Context, key string, dst any) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	b, ok := s.data[key]
	return ok && json.Unmarshal(b, dst) == nil
}

// Set implements cache.Cache.
func (s *Store) Set(_ context.Context, key string, v any, _ time.Duration) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data == nil {
		s.data = map[string][]byte{}
	}
	s.data[key] = b
}

// Delete implements cache.Cache.
func (s *Store) Delete(_ context.Context, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, key)
}

// Reads is how many times Get was called.
func (s *Store) Reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}
