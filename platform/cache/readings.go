package cache

import (
	"sync"
	"time"
)

// readings holds the stamps this process read recently. A reading is used
// for the window from when its read began (Stamps.Read); it knows when a
// request last used it, so that the subjects in use ride along with a bulk
// read that is made anyway instead of each expiring, and being read, on
// its own schedule.
type readings struct {
	mu     sync.Mutex
	window time.Duration
	max    int
	m      map[string]*reading
}

// A reading is a stamp as a read that began at start found it.
type reading struct {
	stamp Stamp
	start time.Time
	epoch uint64
	used  time.Time
}

func newReadings(window time.Duration, max int) *readings {
	return &readings{window: window, max: max, m: map[string]*reading{}}
}

// get returns the stamp of sub when its reading began less than a window
// before now, under epoch, and records the use.
func (r *readings) get(sub string, now time.Time, epoch uint64) (Stamp, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rd, ok := r.m[sub]
	if !ok || rd.epoch != epoch || now.Sub(rd.start) >= r.window {
		return "", false
	}
	rd.used = now
	return rd.stamp, true
}

// put keeps a reading of sub unless one that began later is kept: a slow
// read must not replace what a later read (or this process's own change,
// see Stamps.Touch) found.
func (r *readings) put(sub string, st Stamp, start time.Time, epoch uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rd, ok := r.m[sub]; ok {
		if rd.start.After(start) {
			return
		}
		rd.stamp, rd.start, rd.epoch = st, start, epoch
		return
	}
	if len(r.m) >= r.max {
		for k, rd := range r.m {
			if start.Sub(rd.start) >= r.window {
				delete(r.m, k)
			}
		}
		if len(r.m) >= r.max {
			return // every kept reading is live: this one is simply not kept
		}
	}
	r.m[sub] = &reading{stamp: st, start: start, epoch: epoch, used: start}
}

// aheadScan bounds the readings due looks at (map iteration begins at a
// random place, so a larger set is sampled), and with it the cost a bulk
// read adds to itself.
const aheadScan = 256

// due returns up to n subjects, none in skip, that a request used within
// the last window and whose reading is more than half a window old: they
// would be read again soon, so they are read with the bulk read being made
// now. Readings neither used nor usable any more are dropped on the way.
func (r *readings) due(now time.Time, n int, skip []string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	scanned := 0
	for sub, rd := range r.m {
		if scanned++; scanned > aheadScan || len(out) >= n {
			break
		}
		age := now.Sub(rd.start)
		switch {
		case now.Sub(rd.used) >= r.window:
			if age >= r.window {
				delete(r.m, sub)
			}
		case 2*age > r.window && !contains(skip, sub):
			out = append(out, sub)
		}
	}
	return out
}
