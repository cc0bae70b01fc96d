package app

import (
	"context"
	"sync"
	"time"

	"pixshare/platform/cache"
	"pixshare/post/internal/domain"
)

// WaitConfig bounds the reads that wait for a processing post to move on
// (GET /v1/posts/{id} with "Prefer: wait=N").
type WaitConfig struct {
	// Max is the longest a read waits, whatever it asks.
	Max time.Duration
	// Waiters bounds the reads waiting at once on this replica; one more
	// is answered at once, as if it had not asked to wait.
	Waiters int
	// Recheck is how often a waiting read looks again on its own: a
	// report handled by another replica wakes only that replica's waiters.
	Recheck time.Duration
}

// waiters wakes the reads waiting on a post when this replica records a
// change of its processing.
type waiters struct {
	mu     sync.Mutex
	max    int
	n      int
	byPost map[string]chan struct{}
	closed bool
}

func newWaiters(max int) *waiters {
	return &waiters{max: max, byPost: map[string]chan struct{}{}}
}

// watch returns a channel closed at the post's next change (or at stop),
// and false when no more reads may wait. Call release when done.
func (w *waiters) watch(id string) (<-chan struct{}, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.n >= w.max {
		return nil, false
	}
	w.n++
	ch, ok := w.byPost[id]
	if !ok {
		ch = make(chan struct{})
		w.byPost[id] = ch
	}
	return ch, true
}

func (w *waiters) release() {
	w.mu.Lock()
	w.n--
	w.mu.Unlock()
}

// notify wakes every read waiting on one of ids.
func (w *waiters) notify(ids ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		if ch, ok := w.byPost[id]; ok {
			close(ch)
			delete(w.byPost, id)
		}
	}
}

// close wakes every waiting read and lets no new one wait: the server is
// stopping, and a read that waits would hold up its drain.
func (w *waiters) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for id, ch := range w.byPost {
		close(ch)
		delete(w.byPost, id)
	}
}

// StopWaiting answers every waiting read now, and every later one at once.
func (s *Service) StopWaiting() { s.waiters.close() }

// progress is what a waiting read waits to see change.
type progress struct {
	status    domain.Status
	thumbnail bool
	indexed   bool
}

func progressOf(p domain.Post) progress {
	return progress{status: p.Status, thumbnail: p.ThumbnailReady, indexed: p.Indexed()}
}

// GetAfterProgress is Get, except that a post still processing is
// answered only once its processing moved on (a size ready, indexed,
// ready or failed), once it is gone, or after wait (at most the configured
// Max), whichever comes first. applied is the wait the read was allowed:
// 0 when the post was not processing or too many reads wait already.
//
// A change recorded by this replica wakes the read at once; one recorded
// by another replica is seen at the next recheck, through the post's stamp
// like every read.
func (s *Service) GetAfterProgress(ctx context.Context, viewer, id string, wait time.Duration) (p domain.Post, applied time.Duration, err error) {
	p, err = s.Get(ctx, viewer, id)
	if err != nil || wait <= 0 || p.Status != domain.StatusProcessing {
		return p, 0, err
	}
	wait = min(wait, s.cfg.Wait.Max)
	if wait <= 0 {
		return p, 0, nil
	}
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	seen := progressOf(p)
	recheck := time.NewTicker(s.cfg.Wait.Recheck)
	defer recheck.Stop()
	for {
		changed, ok := s.waiters.watch(id)
		if !ok {
			return p, applied, nil
		}
		applied = wait
		// Read again only after watching, so that a change recorded
		// between the last read and the watch is not missed; each read has
		// a reading of stamps of its own.
		next, err := s.Get(cache.WithLedger(waitCtx, s.stamps), viewer, id)
		if err == nil && progressOf(next) == seen {
			select {
			case <-changed:
			case <-recheck.C:
			case <-waitCtx.Done():
			}
		}
		s.waiters.release()
		switch {
		case err != nil && waitCtx.Err() != nil && ctx.Err() == nil:
			// The wait ran out while reading (whatever error that
			// gave): answer what was seen last.
			return p, applied, nil
		case err != nil:
			return domain.Post{}, applied, err
		case progressOf(next) != seen, waitCtx.Err() != nil:
			return next, applied, nil
		}
		p = next
	}
}
