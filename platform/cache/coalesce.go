package cache

import (
	"context"
	"sync"
)

// A coalescer shares bulk reads of stamps among the requests that ask at
// the same time, so that under load the store is asked once for many
// requests instead of once for each.
//
// It never hands a request a reading older than the request: a Read that
// arrives while a bulk read is in flight does not join that read (it may
// have started before a change this request must see) but the next one,
// which starts when the one in flight ends and after every member joined.
// A request that finds nothing in flight reads at once. So a request waits
// at most for one read in flight and then its own, and a lone request
// waits for nothing.
type coalescer struct {
	read func(ctx context.Context, subjects []string) map[string]Stamp
	// max bounds the subjects of one bulk read; a request that would
	// overflow the waiting batch reads on its own.
	max int

	mu   sync.Mutex
	busy bool       // a read is in flight
	next *readBatch // collecting members; starts when the read in flight ends
}

// A readBatch is one bulk read shared by every request that joined it
// before it started.
type readBatch struct {
	ctx      context.Context // of the first member, without its cancellation
	subjects []string
	seen     map[string]struct{}
	done     chan struct{}
	got      map[string]Stamp
}

func newCoalescer(max int, read func(ctx context.Context, subjects []string) map[string]Stamp) *coalescer {
	return &coalescer{read: read, max: max}
}

// Read returns the current stamps of subjects, read by a bulk read that
// started after Read was called. A subject that could not be read (or a
// request whose context ended while it waited) maps to the zero Stamp.
func (c *coalescer) Read(ctx context.Context, subjects []string) map[string]Stamp {
	c.mu.Lock()
	if !c.busy {
		c.busy = true
		c.mu.Unlock()
		got := c.read(ctx, subjects)
		c.finish()
		return got
	}
	b := c.next
	if b == nil {
		b = &readBatch{ctx: context.WithoutCancel(ctx), seen: map[string]struct{}{}, done: make(chan struct{})}
		c.next = b
	}
	added := 0
	for _, s := range subjects {
		if _, ok := b.seen[s]; !ok {
			added++
		}
	}
	if len(b.subjects)+added > c.max && len(b.subjects) > 0 {
		// The waiting batch is full: read alone rather than grow it
		// without bound.
		c.mu.Unlock()
		return c.read(ctx, subjects)
	}
	for _, s := range subjects {
		if _, ok := b.seen[s]; !ok {
			b.seen[s] = struct{}{}
			b.subjects = append(b.subjects, s)
		}
	}
	c.mu.Unlock()
	select {
	case <-b.done:
		return b.got
	case <-ctx.Done():
		return map[string]Stamp{}
	}
}

// finish ends the read in flight: the batch that collected meanwhile
// starts now, or the coalescer goes idle.
func (c *coalescer) finish() {
	c.mu.Lock()
	b := c.next
	c.next = nil
	if b == nil {
		c.busy = false
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	go func() {
		b.got = c.read(b.ctx, b.subjects)
		close(b.done)
		c.finish()
	}()
}
