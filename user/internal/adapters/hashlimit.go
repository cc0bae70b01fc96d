package adapters

import (
	"time"

	"pixshare/platform/apperror"
	"pixshare/user/internal/app"
)

// hashRetryAfter is suggested to a client turned away by a full hasher:
// about the time a few hashes take.
const hashRetryAfter = 2 * time.Second

// LimitedHasher runs at most n password hashes at once: each argon2id
// hash (and the dummy check for unknown accounts) allocates its whole
// memory parameter, 19 MiB by default, so unbounded concurrency is an
// unbounded heap. A call waits up to wait for a slot, then fails with 503
// and Retry-After.
type LimitedHasher struct {
	inner app.PasswordHasher
	slots chan struct{}
	wait  time.Duration
}

// NewLimitedHasher wraps inner; n < 1 means 1.
func NewLimitedHasher(inner app.PasswordHasher, n int, wait time.Duration) *LimitedHasher {
	if n < 1 {
		n = 1
	}
	return &LimitedHasher{inner: inner, slots: make(chan struct{}, n), wait: wait}
}

func (h *LimitedHasher) acquire() error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-t.C:
		return apperror.New(apperror.Unavailable, "too many password checks in progress; try again shortly").
			WithRetryAfter(hashRetryAfter)
	}
}

func (h *LimitedHasher) release() { <-h.slots }

// Hash implements app.PasswordHasher.
func (h *LimitedHasher) Hash(password string) (string, error) {
	if err := h.acquire(); err != nil {
		return "", err
	}
	defer h.release()
	return h.inner.Hash(password)
}

// Verify implements app.PasswordHasher.
func (h *LimitedHasher) Verify(password, hash string) (bool, error) {
	if err := h.acquire(); err != nil {
		return false, err
	}
	defer h.release()
	return h.inner.Verify(password, hash)
}
