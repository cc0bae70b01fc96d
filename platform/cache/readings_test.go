package cache

import (
	"slices"
	"testing"
	"time"
)

// A reading that began earlier never replaces one that began later: a
// slow bulk read must not bring back the stamp a process's own change
// (Touch) or a later read already replaced.
func TestReadingsKeepTheLaterReading(t *testing.T) {
	r := newReadings(50*time.Millisecond, 10)
	t0 := time.Now()
	r.put("post:1", "new", t0.Add(time.Millisecond), 1)
	r.put("post:1", "old", t0, 1)
	if st, ok := r.get("post:1", t0.Add(2*time.Millisecond), 1); !ok || st != "new" {
		t.Fatalf("got %q %v, want the later reading", st, ok)
	}
	if _, ok := r.get("post:1", t0.Add(2*time.Millisecond), 2); ok {
		t.Fatal("a reading from another epoch was used")
	}
	if _, ok := r.get("post:1", t0.Add(51*time.Millisecond), 1); ok {
		t.Fatal("a reading was used after its window")
	}
}

// The subjects requests used lately, whose readings are past half their
// window, join the next bulk read; a subject nobody used within the window
// does not, and is dropped once its reading is dead.
func TestReadingsDueAreTheUsedAndAgeing(t *testing.T) {
	window := 50 * time.Millisecond
	r := newReadings(window, 10)
	t0 := time.Now()
	for _, sub := range []string{"used", "young", "asked"} {
		r.put(sub, "s", t0, 1)
	}
	r.put("young", "s", t0.Add(20*time.Millisecond), 1)
	// Read (which counts as a use) a window and more before now.
	r.put("unused", "s", t0.Add(-40*time.Millisecond), 1)
	now := t0.Add(30 * time.Millisecond)
	for _, sub := range []string{"used", "young", "asked"} {
		if _, ok := r.get(sub, now, 1); !ok {
			t.Fatalf("%s: no reading", sub)
		}
	}
	due := r.due(now, 10, []string{"asked"})
	if !slices.Equal(due, []string{"used"}) {
		t.Fatalf("due = %v, want [used]: used, past half its window, not already asked for", due)
	}
	r.mu.Lock()
	_, kept := r.m["unused"]
	r.mu.Unlock()
	if kept {
		t.Fatal("a reading nobody used was kept after its window")
	}
	if got := r.due(now, 0, nil); len(got) != 0 {
		t.Fatalf("due with n=0 = %v", got)
	}
}

// The bound holds: when every kept reading is live a new one is not kept.
func TestReadingsBound(t *testing.T) {
	r := newReadings(time.Second, 2)
	t0 := time.Now()
	r.put("a", "s", t0, 1)
	r.put("b", "s", t0, 1)
	r.put("c", "s", t0, 1)
	if _, ok := r.get("c", t0, 1); ok {
		t.Fatal("a third reading was kept with a bound of two")
	}
	r.put("d", "s", t0.Add(2*time.Second), 1) // a and b are dead by then
	if _, ok := r.get("d", t0.Add(2*time.Second), 1); !ok {
		t.Fatal("dead readings were not dropped for a new one")
	}
}
