package cache

import (
	"context"
	"slices"
	"time"
)

// Checked is an in-process cache that never serves a stale entry: each
// entry records the stamps of the subjects it was computed from, read
// before it was computed, and is served only while those are still the
// current, usable stamps (one read of the request's ledger, shared by
// every check of the request) and the store's epoch has not moved (no
// outage since). A change of a subject replaces its stamp before the
// change's response leaves, so the next request on any replica misses and
// asks the owner.
type Checked[T any] struct {
	store  StampStore
	local  *Local[checked[T]]
	maxAge time.Duration
}

type checked[T any] struct {
	v      T
	epoch  uint64
	stamps []Stamp
}

// NewChecked returns a cache of at most size entries. maxAge bounds how
// long an entry is kept at all (memory, and a backstop should a stamp
// never be renewed).
func NewChecked[T any](store StampStore, size int, maxAge time.Duration) *Checked[T] {
	return &Checked[T]{store: store, local: NewLocal[checked[T]](size), maxAge: maxAge}
}

// Get returns the value under key, which depends on subjects, calling load
// on a miss and keeping its answer when every stamp was usable.
func (c *Checked[T]) Get(ctx context.Context, key string, subjects []string, load func(ctx context.Context) (T, error)) (T, error) {
	epoch := c.store.Epoch()
	stamps := Current(ctx, c.store, subjects...)
	usable := epoch == c.store.Epoch()
	for _, s := range stamps {
		usable = usable && s.Usable()
	}
	if usable {
		if e, ok := c.local.Get(key); ok && e.epoch == epoch && slices.Equal(e.stamps, stamps) {
			return e.v, nil
		}
	}
	v, err := load(ctx)
	if err != nil || !usable {
		return v, err
	}
	c.local.Set(key, checked[T]{v: v, epoch: epoch, stamps: stamps}, c.maxAge)
	return v, nil
}

// Peek returns the value kept under key without reading any stamp: never
// to serve, only to learn what cannot change for a key (the user a token
// belongs to, which names the stamp that Get then checks).
func (c *Checked[T]) Peek(key string) (T, bool) {
	e, ok := c.local.Get(key)
	return e.v, ok
}

// Drop forgets key on this replica (others notice by the stamps).
func (c *Checked[T]) Drop(key string) { c.local.Delete(key) }

// GetMany is Get for many keys at once: keys[i] depends on subjects[i].
// Every stamp is read in one call (the request's ledger), and every miss
// is loaded with one call of load, whose answer may leave keys out (they
// are then absent from the result too).
func (c *Checked[T]) GetMany(ctx context.Context, keys, subjects []string,
	load func(ctx context.Context, missing []string) (map[string]T, error)) (map[string]T, error) {
	epoch := c.store.Epoch()
	stamps := Current(ctx, c.store, subjects...)
	fresh := epoch == c.store.Epoch()
	out := make(map[string]T, len(keys))
	var missing []string
	for i, key := range keys {
		if fresh && stamps[i].Usable() {
			if e, ok := c.local.Get(key); ok && e.epoch == epoch && len(e.stamps) == 1 && e.stamps[0] == stamps[i] {
				out[key] = e.v
				continue
			}
		}
		missing = append(missing, key)
	}
	if len(missing) == 0 {
		return out, nil
	}
	loaded, err := load(ctx, missing)
	if err != nil {
		return nil, err
	}
	index := make(map[string]int, len(keys))
	for i, k := range keys {
		index[k] = i
	}
	for key, v := range loaded {
		i, ok := index[key]
		if !ok {
			continue
		}
		out[key] = v
		if fresh && stamps[i].Usable() {
			c.local.Set(key, checked[T]{v: v, epoch: epoch, stamps: []Stamp{stamps[i]}}, c.maxAge)
		}
	}
	return out, nil
}
