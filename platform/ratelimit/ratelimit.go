// Package ratelimit limits how often one client (by address) or one account
// may do an expensive or abusable thing — log in, register, upload,
// comment — answering 429 with Retry-After beyond the limit.
//
// Limits are kept in process (token buckets from golang.org/x/time/rate),
// so with N replicas a client gets up to N times the limit; that bounds
// abuse without a shared store on every request.
package ratelimit

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"pixshare/platform/apperror"
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

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// Limiter holds one bucket per (rule, key).
type Limiter struct {
	enabled bool
	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
	now     func() time.Time
}

// New returns a Limiter; a disabled one allows everything (tests that need
// speed, load tests).
func New(enabled bool) *Limiter {
	return &Limiter{enabled: enabled, buckets: map[string]*bucket{}, now: time.Now}
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
	l.sweepLocked(now)
	reservations := make([]*rate.Reservation, 0, len(keys))
	var refused Key
	var wait time.Duration
	for _, k := range keys {
		if k.Limit.Off() || k.Key == "" {
			continue
		}
		id := k.Rule + "\x00" + k.Key
		b, ok := l.buckets[id]
		if !ok {
			b = &bucket{lim: rate.NewLimiter(rate.Every(k.Limit.Period/time.Duration(k.Limit.Count)), k.Limit.Count)}
			l.buckets[id] = b
		}
		b.seen = now
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

// sweepLocked forgets buckets idle for ten minutes, at most once a minute,
// so memory follows active clients only.
func (l *Limiter) sweepLocked(now time.Time) {
	if now.Sub(l.sweep) < time.Minute {
		return
	}
	l.sweep = now
	for id, b := range l.buckets {
		if now.Sub(b.seen) > 10*time.Minute {
			delete(l.buckets, id)
		}
	}
}

// ClientIP identifies the client of r: the first X-Forwarded-For address
// (the gateway replaces whatever a client sent with the connection's
// address), else the connection's.
func ClientIP(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		if ip := net.ParseIP(strings.TrimSpace(first)); ip != nil {
			return ip.String()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
