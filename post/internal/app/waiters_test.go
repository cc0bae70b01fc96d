package app

import "testing"

// closedNow reports whether ch is closed, without waiting.
func closedNow(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestWaitersWakeTheirPostOnly(t *testing.T) {
	w := newWaiters(10)
	a1, ok1 := w.watch("a")
	a2, ok2 := w.watch("a")
	b, ok3 := w.watch("b")
	if !ok1 || !ok2 || !ok3 {
		t.Fatal("a read below the bound was refused")
	}
	w.notify("a", "unwatched")
	if !closedNow(a1) || !closedNow(a2) {
		t.Fatal("a change of post a did not wake its reads")
	}
	if closedNow(b) {
		t.Fatal("a change of post a woke a read of post b")
	}
	// A read that watches again after the change waits for the next one.
	if again, _ := w.watch("a"); closedNow(again) {
		t.Fatal("a new watch of a saw the change already reported")
	}
}

func TestWaitersAreBounded(t *testing.T) {
	w := newWaiters(2)
	w.watch("a")
	w.watch("b")
	if _, ok := w.watch("c"); ok {
		t.Fatal("a third read waits beside a bound of 2")
	}
	w.release()
	if _, ok := w.watch("c"); !ok {
		t.Fatal("a read was refused after another stopped waiting")
	}
	if _, ok := newWaiters(0).watch("a"); ok {
		t.Fatal("a read waits with PROCESSING_WAITERS=0")
	}
}

func TestClosedWaitersWakeEveryReadAndRefuseMore(t *testing.T) {
	w := newWaiters(10)
	a, _ := w.watch("a")
	b, _ := w.watch("b")
	w.close()
	if !closedNow(a) || !closedNow(b) {
		t.Fatal("stopping did not wake every waiting read")
	}
	if _, ok := w.watch("a"); ok {
		t.Fatal("a read may wait on a stopping server")
	}
}
