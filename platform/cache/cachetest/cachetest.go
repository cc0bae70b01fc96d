// Package cachetest holds an in-memory cache.Cache and cache.StampStore
// for unit tests of the layers above the state store. It stands in for the
// Dapr state store,
// which needs a sidecar: platform/cache's own tests and the e2e suites use
// the real one. Like the state store it keeps JSON, so a value comes back
// only if it survives encoding, and it counts reads.
package cachetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"pixshare/platform/cache"
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

// Stamps is an in-memory cache.StampStore with the Dapr one's rules (a
// first read creates a stamp; Change marks pending, writes, then cleans),
// counting reads. Fail makes every call fail, as a store outage would.
type Stamps struct {
	mu     sync.Mutex
	stamps map[string]cache.Stamp
	reads  int
	n      int
	epoch  uint64
	owed   []string
	// Fail makes the store unreachable: reads return nothing, changes are
	// made without renewing stamps (until Recover), and the epoch moves.
	Fail bool
}

// Epoch implements cache.StampStore.
func (s *Stamps) Epoch() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.epoch
}

// Recover ends an outage the way the Dapr store's repair loop does: the
// stamps of the changes made meanwhile are renewed.
func (s *Stamps) Recover() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Fail = false
	for _, sub := range s.owed {
		s.n++
		s.stamps[sub] = cache.Stamp(fmt.Sprintf("s%d", s.n))
	}
	s.owed = nil
}

// Read implements cache.StampStore.
func (s *Stamps) Read(_ context.Context, subjects []string) map[string]cache.Stamp {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	out := map[string]cache.Stamp{}
	if s.Fail {
		s.epoch++
		return out
	}
	if s.stamps == nil {
		s.stamps = map[string]cache.Stamp{}
	}
	for _, sub := range subjects {
		if _, ok := s.stamps[sub]; !ok {
			s.n++
			s.stamps[sub] = cache.Stamp(fmt.Sprintf("s%d", s.n))
		}
		out[sub] = s.stamps[sub]
	}
	return out
}

// Change implements cache.StampStore.
func (s *Stamps) Change(_ context.Context, subjects []string, write func() error) error {
	s.mu.Lock()
	if s.Fail {
		s.epoch++
		s.owed = append(s.owed, subjects...)
		s.mu.Unlock()
		return write()
	}
	if s.stamps == nil {
		s.stamps = map[string]cache.Stamp{}
	}
	for _, sub := range subjects {
		s.stamps[sub] = "pending:x"
	}
	s.mu.Unlock()
	err := write()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range subjects {
		s.n++
		s.stamps[sub] = cache.Stamp(fmt.Sprintf("s%d", s.n))
	}
	return err
}

// Touch implements cache.StampStore: the subjects get new stamps at once
// (or, during an outage, once Recover is called).
func (s *Stamps) Touch(_ context.Context, subjects []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail {
		s.epoch++
		s.owed = append(s.owed, subjects...)
		return
	}
	if s.stamps == nil {
		s.stamps = map[string]cache.Stamp{}
	}
	for _, sub := range subjects {
		if cur, ok := s.stamps[sub]; ok && !cur.Usable() {
			continue // a change in flight renews it after its write
		}
		s.n++
		s.stamps[sub] = cache.Stamp(fmt.Sprintf("s%d", s.n))
	}
}

// Reads is how many times Read was called.
func (s *Stamps) Reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// Mu runs f under the store's lock (for tests that flip Fail mid-run).
func (s *Stamps) Mu(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}
