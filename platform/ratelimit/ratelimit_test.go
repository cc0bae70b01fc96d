package ratelimit

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"pixshare/platform/apperror"
)

func TestAllow(t *testing.T) {
	t.Parallel()
	l := New(true)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return clock }
	limit := Limit{Count: 3, Period: time.Minute}
	for i := range 3 {
		if err := l.Allow("login", "1.2.3.4", limit); err != nil {
			t.Fatalf("event %d refused: %v", i, err)
		}
	}
	err := l.Allow("login", "1.2.3.4", limit)
	e, ok := apperror.As(err)
	if !ok || e.Kind != apperror.RateLimited || e.RetryAfter <= 0 || e.RetryAfter > 20*time.Second {
		t.Fatalf("fourth event: %v (retry after %v)", err, e.RetryAfter)
	}
	if err := l.Allow("login", "5.6.7.8", limit); err != nil {
		t.Fatal("another client was limited")
	}
	if err := l.Allow("upload", "1.2.3.4", limit); err != nil {
		t.Fatal("another rule was limited")
	}
	clock = clock.Add(20 * time.Second)
	if err := l.Allow("login", "1.2.3.4", limit); err != nil {
		t.Fatalf("a token should have refilled after 20s: %v", err)
	}
	if err := New(false).Allow("login", "x", Limit{Count: 1, Period: time.Hour}); err != nil {
		t.Fatal("a disabled limiter refused")
	}
}

func TestParseLimit(t *testing.T) {
	t.Parallel()
	if l, err := ParseLimit("10/1m"); err != nil || l.Count != 10 || l.Period != time.Minute {
		t.Fatalf("10/1m = %+v %v", l, err)
	}
	for _, s := range []string{"off", "0"} {
		if l, err := ParseLimit(s); err != nil || !l.Off() {
			t.Fatalf("%s = %+v %v", s, l, err)
		}
	}
	for _, s := range []string{"ten/1m", "10", "10/soon", "-1/1m", "5/0s"} {
		if _, err := ParseLimit(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestClientIPIgnoresForwardedFor(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.9:5555"
	if ClientIP(r) != "10.0.0.9" {
		t.Fatal(ClientIP(r))
	}
	// Anyone can send this header; only the gateway's vouched-for address
	// (decided by the httpserver middleware) counts.
	r.Header.Set("X-Forwarded-For", "203.0.113.7, 10.0.0.1")
	if ClientIP(r) != "10.0.0.9" {
		t.Fatal(ClientIP(r))
	}
}

func TestAllowAllTakesFromEveryBucketOrNone(t *testing.T) {
	t.Parallel()
	l := New(true)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	account := Limit{Count: 3, Period: time.Minute}
	client := Limit{Count: 1, Period: time.Minute}
	both := func(addr string) error {
		return l.AllowAll(Key{Rule: "acct", Key: "alice", Limit: account}, Key{Rule: "client", Key: addr, Limit: client})
	}
	if err := both("10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	// The client's bucket is empty: refused, and the account keeps its
	// allowance for requests from elsewhere.
	for range 5 {
		if err := both("10.0.0.1"); !apperror.Is(err, apperror.RateLimited) {
			t.Fatalf("want 429 from the client's bucket, got %v", err)
		}
	}
	for _, addr := range []string{"10.0.0.2", "10.0.0.3"} {
		if err := both(addr); err != nil {
			t.Fatalf("the account lost its allowance to refused requests: %v", err)
		}
	}
	if err := both("10.0.0.4"); !apperror.Is(err, apperror.RateLimited) {
		t.Fatalf("the account's fourth request in a minute: want 429, got %v", err)
	}
}

func TestKeysAreBoundedInLengthAndCount(t *testing.T) {
	t.Parallel()
	l := NewBounded(true, 100)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	limit := Limit{Count: 1, Period: time.Minute}
	long := strings.Repeat("x", 1<<20)
	if err := l.Allow("login-account", long, limit); err != nil {
		t.Fatal(err)
	}
	// The long key is kept hashed, and still limits.
	if err := l.Allow("login-account", long, limit); !apperror.Is(err, apperror.RateLimited) {
		t.Fatalf("second event of a long key: want 429, got %v", err)
	}
	if err := l.Allow("login-account", long+"y", limit); err != nil {
		t.Fatalf("a different long key shared the bucket: %v", err)
	}
	l.mu.Lock()
	for id := range l.buckets {
		if len(id) > len("login-account")+1+MaxKeyLen {
			t.Errorf("a key of %d bytes is kept", len(id))
		}
	}
	l.mu.Unlock()

	// Churn: never more than the bound, however many distinct keys come.
	for i := range 10000 {
		_ = l.Allow("login", strconv.Itoa(i), limit)
		if n := l.Len(); n > 100 {
			t.Fatalf("%d buckets after %d keys", n, i+1)
		}
	}
	// The recently used bucket survives the churn that evicts older ones.
	if err := l.Allow("login", "9999", limit); !apperror.Is(err, apperror.RateLimited) {
		t.Fatalf("the most recent bucket was forgotten: %v", err)
	}
	// Idle buckets go as new ones arrive, full or not.
	now = now.Add(idleAfter + time.Second)
	for i := range 300 {
		_ = l.Allow("fresh", strconv.Itoa(i), limit)
	}
	l.mu.Lock()
	for _, b := range l.buckets {
		if now.Sub(b.seen) > idleAfter {
			t.Errorf("an idle bucket %q is still kept", b.id)
		}
	}
	l.mu.Unlock()
}
