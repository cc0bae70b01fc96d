package cache_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"pixshare/platform/cache"
	"pixshare/platform/cache/cachetest"
)

func TestCheckedServesOnlyUnderCurrentStamps(t *testing.T) {
	t.Parallel()
	store := &cachetest.Stamps{}
	c := cache.NewChecked[string](store, 100, time.Hour)
	loads := 0
	value := "v1"
	load := func(context.Context) (string, error) { loads++; return value, nil }
	get := func() string {
		// Every request has its own ledger, as the middleware gives it.
		ctx := cache.WithLedger(context.Background(), store)
		v, err := c.Get(ctx, "k", []string{"user:a"}, load)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if get() != "v1" || get() != "v1" || loads != 1 {
		t.Fatalf("two reads loaded %d times, want 1", loads)
	}
	// The owner changes the subject: the very next request loads again.
	if err := store.Change(context.Background(), []string{"user:a"}, func() error { value = "v2"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != "v2" || loads != 2 {
		t.Fatalf("after a change: %q after %d loads, want v2 after 2", got, loads)
	}
}

func TestCheckedFillCannotRaceAChange(t *testing.T) {
	t.Parallel()
	store := &cachetest.Stamps{}
	c := cache.NewChecked[string](store, 100, time.Hour)
	ctx := cache.WithLedger(context.Background(), store)
	// The load reads the old state, and a change commits and renews the
	// stamp before the load's answer is stored (the put-after-read race).
	_, err := c.Get(ctx, "k", []string{"user:a"}, func(context.Context) (string, error) {
		if err := store.Change(context.Background(), []string{"user:a"}, func() error { return nil }); err != nil {
			return "", err
		}
		return "old", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	next := cache.WithLedger(context.Background(), store)
	got, _ := c.Get(next, "k", []string{"user:a"}, func(context.Context) (string, error) { return "new", nil })
	if got != "new" {
		t.Fatalf("the answer read before a change was served after it: %q", got)
	}
}

func TestCheckedWithoutStoreNeverCaches(t *testing.T) {
	t.Parallel()
	store := &cachetest.Stamps{Fail: true}
	c := cache.NewChecked[string](store, 100, time.Hour)
	loads := 0
	for range 3 {
		ctx := cache.WithLedger(context.Background(), store)
		if _, err := c.Get(ctx, "k", []string{"user:a"}, func(context.Context) (string, error) { loads++; return "v", nil }); err != nil {
			t.Fatal(err)
		}
	}
	if loads != 3 {
		t.Fatalf("with the store down every request must ask the owner: %d loads for 3 requests", loads)
	}
}

func TestNothingCachedBeforeAnOutageIsServedAfterIt(t *testing.T) {
	t.Parallel()
	store := &cachetest.Stamps{}
	c := cache.NewChecked[string](store, 100, time.Hour)
	value := "before"
	get := func() string {
		v, err := c.Get(cache.WithLedger(context.Background(), store), "k", []string{"user:a"},
			func(context.Context) (string, error) { return value, nil })
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if get() != "before" {
		t.Fatal("first read")
	}
	// The store goes away; a change is made all the same (no 5xx), but
	// its stamp cannot be renewed.
	store.Fail = true
	if err := store.Change(context.Background(), []string{"user:a"}, func() error { value = "during"; return nil }); err != nil {
		t.Fatalf("a change during an outage failed: %v", err)
	}
	if got := get(); got != "during" {
		t.Fatalf("during the outage: %q, want the owner's answer", got)
	}
	// The store is back, with the old stamp until the renewal lands: the
	// entry from before the outage must not come back.
	store.Mu(func() { store.Fail = false })
	if got := get(); got != "during" {
		t.Fatalf("after the outage, before the renewal: %q, want %q", got, "during")
	}
	store.Recover()
	if got := get(); got != "during" {
		t.Fatalf("after the renewal: %q", got)
	}
}

func TestCheckedErrorsAreNotCached(t *testing.T) {
	t.Parallel()
	store := &cachetest.Stamps{}
	c := cache.NewChecked[string](store, 100, time.Hour)
	boom := errors.New("owner down")
	ctx := cache.WithLedger(context.Background(), store)
	if _, err := c.Get(ctx, "k", []string{"user:a"}, func(context.Context) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	got, _ := c.Get(ctx, "k", []string{"user:a"}, func(context.Context) (string, error) { return "ok", nil })
	if got != "ok" {
		t.Fatalf("a failed load was cached: %q", got)
	}
}

func TestLedgerReadsOncePerRequest(t *testing.T) {
	t.Parallel()
	store := &cachetest.Stamps{}
	ctx := cache.WithLedger(context.Background(), store)
	cache.Want(ctx, "user:author")
	cache.Current(ctx, store, "user:viewer")
	cache.Current(ctx, store, "user:author")
	cache.Current(ctx, store, "user:viewer", "user:author")
	if store.Reads() != 1 {
		t.Fatalf("%d store reads for one request, want 1 (wanted subjects ride along)", store.Reads())
	}
	cache.Current(ctx, store, "post:p")
	if store.Reads() != 2 {
		t.Fatalf("a subject not read yet must be read: %d reads", store.Reads())
	}
}

func TestBreaker(t *testing.T) {
	t.Parallel()
	b := cache.NewBreaker(3, time.Minute)
	for range 3 {
		if !b.Allow() {
			t.Fatal("closed breaker refused a call")
		}
		b.Record(false)
	}
	if b.Allow() || !b.Open() {
		t.Fatal("three failures did not open the breaker")
	}
}

func TestPeekSeesKeptValuesWithoutReadingStamps(t *testing.T) {
	t.Parallel()
	store := &cachetest.Stamps{}
	c := cache.NewChecked[string](store, 100, time.Hour)
	if _, ok := c.Peek("k"); ok {
		t.Fatal("Peek found a value before any was kept")
	}
	ctx := cache.WithLedger(context.Background(), store)
	if _, err := c.Get(ctx, "k", []string{"user:a"}, func(context.Context) (string, error) { return "v1", nil }); err != nil {
		t.Fatal(err)
	}
	reads := store.Reads()
	if v, ok := c.Peek("k"); !ok || v != "v1" {
		t.Fatalf("Peek = %q, %v; want the kept v1", v, ok)
	}
	if store.Reads() != reads {
		t.Fatal("Peek read stamps")
	}
	c.Drop("k")
	if _, ok := c.Peek("k"); ok {
		t.Fatal("Peek found a dropped value")
	}
}
