package cache

import (
	"testing"
	"time"
)

func TestLocal(t *testing.T) {
	t.Parallel()
	l := NewLocal[int](2)
	clock := time.Unix(0, 0)
	l.now = func() time.Time { return clock }
	l.Set("a", 1, time.Second)
	if v, ok := l.Get("a"); !ok || v != 1 {
		t.Fatal("miss right after set")
	}
	clock = clock.Add(2 * time.Second)
	if _, ok := l.Get("a"); ok {
		t.Fatal("hit after expiry")
	}
	l.Set("b", 2, time.Minute)
	l.Set("c", 3, time.Minute) // "a" (expired) makes room
	l.Set("d", 4, time.Minute) // full of live entries: starts over
	if len(l.entries) > 2 {
		t.Fatalf("%d entries, bound is 2", len(l.entries))
	}
	if v, ok := l.Get("d"); !ok || v != 4 {
		t.Fatal("the newest entry was lost")
	}
	l.Delete("d")
	if _, ok := l.Get("d"); ok {
		t.Fatal("hit after delete")
	}
	l.Set("e", 5, 0)
	if _, ok := l.Get("e"); ok {
		t.Fatal("a zero TTL stored a value")
	}
}
