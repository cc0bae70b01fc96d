// Package ratelimit limits how often one client (by address) or one account
// may do an expensive or abusable thing — log in, register, upload,
// comment — answering 429 with Retry-After beyond the limit.
//
// Limits are kept in process (token buckets from golang.org/x/time/rate),
// so with N replicas a client gets up to N times the limit; that bounds
// abuse without a shared store on every request.
//
// Memory is bounded whatever keys clients choose: a key longer than
// MaxKeyLen is replaced by its SHA-256, and at most MaxKeys buckets are
// kept; beyond that the least recently used bucket is forgotten (which
// only ever gives that key a fresh allowance back, never less).
package ratelimit

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"pixshare/platform/apperror"
	"pixshare/platform/httpserver"
)

// Limit is "Count events per Period", with bursts up to Count.
type Limit struct {
	Count  int
	Period time.Duration
}

// ParseLimit reads "10/1m" (10 per minute); "0" or "off" disables.
func ParseLimit(s string) (Limit, error) {
	if s == "0" || s == "off" {
		return Limit{}, nil
	}
	n, d, ok := strings.Cut(s, "/")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count < 0 {
		return Limit{}, fmt.Errorf("rate limit %q: want COUNT/DURATION, e.g. 10/1m", s)
	}
	period, err := time.ParseDuration(d)
	if err != nil || period <= 0 {
		return Limit{}, fmt.Errorf("rate limit %q: bad duration", s)
	}
	return Limit{Count: count, Period: period}, nil
}

// UnmarshalText lets config parse a Limit from the environment.
func (l *Limit) UnmarshalText(b []byte) error {
	v, err := ParseLimit(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Off reports whether the limit is disabled.
func (l Limit) Off() bool { return l.Count == 0 }

// MaxKeyLen is the longest key kept as it is; longer ones (a 1 MB login
// name) are kept as their SHA-256 in hex, which is this long.
const MaxKeyLen = 64

// DefaultMaxKeys bounds the buckets of one Limiter: about 250 bytes each
// (the id, a rate.Limiter, the map and list entries), so ~12 MiB.
const DefaultMaxKeys = 50000

// idleAfter is how long an unused bucket is kept. A bucket idle this long
// has refilled (every limit here refills within ten minutes), so
// forgetting it changes nothing.
const idleAfter = 10 * time.Minute

type bucket struct {
	id   string
	lim  *rate.Limiter
	seen time.Time
	elem *list.Element
}

// Limiter holds one bucket per (rule, key), at most maxKeys of them.
type Limiter struct {
	enabled bool
	maxKeys int
	mu      sync.Mutex
	buckets map[string]*bucket
	// lru orders buckets by last use, most recent at the front.
	lru *list.List
	now func() time.Time
}

// New returns a Limiter holding up to DefaultMaxKeys buckets; a disabled
// one allows everything (tests that need speed, load tests).
func New(enabled bool) *Limiter {
	return NewBounded(enabled, DefaultMaxKeys)
}

// NewBounded returns a Limiter holding up to maxKeys buckets (< 1 means
// DefaultMaxKeys).
func NewBounded(enabled bool, maxKeys int) *Limiter {
	if maxKeys < 1 {
		maxKeys = DefaultMaxKeys
	}
	return &Limiter{enabled: enabled, maxKeys: maxKeys, buckets: map[string]*bucket{}, lru: list.New(), now: time.Now}
}

// Len is the number of buckets held.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// normKey bounds a key's length: a long key becomes its SHA-256.
func normKey(k string) string {
	if len(k) <= MaxKeyLen {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// Key names one bucket: a rule (what is limited), a key (whose: an
// account, a client address) and the limit.
type Key struct {
	Rule  string
	Key   string
	Limit Limit
}

// Allow takes one event of rule for key under limit. When refused it
// returns a RateLimited error carrying when to retry.
func (l *Limiter) Allow(rule, key string, limit Limit) error {
	return l.AllowAll(Key{Rule: rule, Key: key, Limit: limit})
}

// AllowAll takes one event from every bucket, or from none when any of
// them refuses (a request refused for its client does not also spend its
// account's allowance). Disabled limits and empty keys are skipped.
func (l *Limiter) AllowAll(keys ...Key) error {
	if !l.enabled {
		return nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	reservations := make([]*rate.Reservation, 0, len(keys))
	var refused Key
	var wait time.Duration
	for _, k := range keys {
		if k.Limit.Off() || k.Key == "" {
			continue
		}
		b := l.bucketLocked(k, now)
		r := b.lim.ReserveN(now, 1)
		reservations = append(reservations, r)
		if delay := r.DelayFrom(now); delay > wait {
			refused, wait = k, delay
		}
	}
	if wait == 0 {
		return nil
	}
	for _, r := range reservations {
		r.CancelAt(now)
	}
	return apperror.Newf(apperror.RateLimited, "too many %s requests; try again later", refused.Rule).WithRetryAfter(wait)
}

// bucketLocked returns k's bucket, marked used now, making it when new.
// Idle buckets are forgotten from the old end of the list as it goes (so
// the cost is spread over calls), and the least recently used one when the
// limiter is full.
func (l *Limiter) bucketLocked(k Key, now time.Time) *bucket {
	id := k.Rule + "\x00" + normKey(k.Key)
	if b, ok := l.buckets[id]; ok {
		b.seen = now
		l.lru.MoveToFront(b.elem)
		return b
	}
	for i := 0; i < 2; i++ {
		back := l.lru.Back()
		if back == nil {
			break
		}
		if old := back.Value.(*bucket); now.Sub(old.seen) > idleAfter || len(l.buckets) >= l.maxKeys {
			l.forgetLocked(old)
		}
	}
	b := &bucket{id: id, seen: now,
		lim: rate.NewLimiter(rate.Every(k.Limit.Period/time.Duration(k.Limit.Count)), k.Limit.Count)}
	b.elem = l.lru.PushFront(b)
	l.buckets[id] = b
	return b
}

func (l *Limiter) forgetLocked(b *bucket) {
	l.lru.Remove(b.elem)
	delete(l.buckets, b.id)
}

// ClientIP identifies the client of r, as the server's middleware decided
// it: the address the gateway vouches for (with its hop token), else the
// connection's. A client's own X-Forwarded-For is never believed here.
func ClientIP(r *http.Request) string {
	return httpserver.ClientAddr(r)
}
