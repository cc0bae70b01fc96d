package app

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sync/semaphore"

	"pixshare/platform/apperror"
)

// Budget bounds the bytes of image transfers in flight (uploads being
// stored, downloads being served). The app streams each transfer through
// a few fixed buffers, but its sidecar holds the whole blob while the
// binding runs, so the bytes in flight, not the number of requests, are
// what must stay bounded. A transfer waits its turn up to Wait, then is
// refused with 503 and a Retry-After.
type Budget struct {
	sem        *semaphore.Weighted
	size       int64
	min        int64
	wait       time.Duration
	retryAfter time.Duration
	what       string
}

// What one transfer holds in the app itself, charged at the least: an
// upload's head (kept to read its header) and its copy and transport
// buffers; a download's buffers.
const (
	UploadOverhead   = maxHeaderBytes + 256<<10
	DownloadOverhead = 256 << 10
)

// NewBudget returns a budget of size bytes; every transfer is charged at
// least min bytes (what the app itself holds for one: its buffers).
func NewBudget(what string, size, min int64, wait, retryAfter time.Duration) *Budget {
	return &Budget{sem: semaphore.NewWeighted(size), size: size, min: min, wait: wait, retryAfter: retryAfter, what: what}
}

// Acquire charges n bytes (at least the minimum, at most the whole
// budget) and returns the function that gives them back.
func (b *Budget) Acquire(ctx context.Context, n int64) (release func(), err error) {
	n = min(max(n, b.min), b.size)
	wctx, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	if err := b.sem.Acquire(wctx, n); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, apperror.Wrap(apperror.Unavailable, errors.New(b.what+" budget exhausted"),
			"too many "+b.what+" in progress; retry later").WithRetryAfter(b.retryAfter)
	}
	return func() { b.sem.Release(n) }, nil
}
