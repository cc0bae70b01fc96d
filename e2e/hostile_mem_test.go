package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Memory budgets per app (the k8s limits, with margin): a peak over these
// is a failure of the suite.
var memoryBudgets = map[string]int64{
	"user":        192 << 20,
	"post":        384 << 20,
	"thumbnailer": 768 << 20,
}

// budgetOf is the app's budget; every app not named has 128 MiB. Replica
// names ("post#123") share their app's budget.
func budgetOf(id string) int64 {
	id, _, _ = strings.Cut(id, "#")
	if b, ok := memoryBudgets[id]; ok {
		return b
	}
	return 128 << 20
}

// memWatch samples each app's VmHWM (its peak resident set since it
// started) in the background: a process the kernel kills takes its /proc
// entry with it, and the last sample is then the best figure left.
type memWatch struct {
	mu    sync.Mutex
	peaks map[string]int64
	quit  chan struct{}
	done  chan struct{}
	pids  map[string]int
}

func watchMemory(pids map[string]int) *memWatch {
	w := &memWatch{peaks: map[string]int64{}, quit: make(chan struct{}), done: make(chan struct{}), pids: pids}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			w.sample()
			select {
			case <-w.quit:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *memWatch) sample() {
	for id, pid := range w.pids {
		hwm, err := vmHWM(pid)
		if err != nil {
			continue // gone
		}
		w.mu.Lock()
		w.peaks[id] = max(w.peaks[id], hwm)
		w.mu.Unlock()
	}
}

// stop takes a last sample and returns the peaks in bytes.
func (w *memWatch) stop() map[string]int64 {
	close(w.quit)
	<-w.done
	w.sample()
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]int64{}
	for k, v := range w.peaks {
		out[k] = v
	}
	return out
}

// vmHWM reads VmHWM from /proc/PID/status, in bytes.
func vmHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM")
}

// cgroupRoot is the cgroup v1 memory controller.
const cgroupRoot = "/sys/fs/cgroup/memory"

// confinement is the memory cgroup of each app (none when the machine
// does not let the test make them).
type confinement struct {
	dirs map[string]string // app id → cgroup dir
}

// confineApps moves each app into a new cgroup v1 memory cgroup
// (pixshare-hostile-<test pid>-<app>) whose limit is the app's budget, so
// that an app going over its budget is OOM-killed, which stops the stack
// and fails the suite. The charges the app already has move with it. When
// the controller is missing or not writable it logs why and confines
// nothing: the VmHWM figures still decide. The cgroups are removed when
// the test ends, after the stack has stopped.
func confineApps(t *testing.T, s *Stack, pids map[string]int) *confinement {
	t.Helper()
	c := &confinement{dirs: map[string]string{}}
	t.Cleanup(func() {
		// Stop first: a cgroup with processes in it cannot be removed.
		// Stack.Stop is idempotent, so Start's own cleanup is a no-op then.
		s.Stop(t)
		for id, dir := range c.dirs {
			var err error
			for range 50 {
				if err = os.Remove(dir); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				t.Errorf("removing the cgroup of %s: %v", id, err)
			}
		}
	})
	if os.Getenv("PIXSHARE_HOSTILE_CGROUPS") == "0" {
		t.Logf("PIXSHARE_HOSTILE_CGROUPS=0: no memory cgroups (apps run unconfined, to measure how far over budget they go); budgets are checked from VmHWM only")
		return c
	}
	for id, pid := range pids {
		dir := filepath.Join(cgroupRoot, fmt.Sprintf("pixshare-hostile-%d-%s", os.Getpid(), strings.ReplaceAll(id, "#", "-")))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Logf("no memory cgroups (%v): budgets are checked from VmHWM only", err)
			return c
		}
		c.dirs[id] = dir
		// The pages the app has already touched would move with it, but
		// recent kernels refuse to move charges (EINVAL): they then stay
		// where they were (a few tens of MiB at start-up) and the limit
		// bounds everything the app allocates from now on.
		if err := os.WriteFile(filepath.Join(dir, "memory.move_charge_at_immigrate"), []byte("1"), 0o644); err != nil && id == "user" {
			t.Logf("the kernel does not move charges with a task (%v): the cgroups bound what the apps allocate from now on", err)
		}
		for _, w := range []struct{ file, value string }{
			{"memory.limit_in_bytes", strconv.FormatInt(budgetOf(id), 10)},
			{"cgroup.procs", strconv.Itoa(pid)},
		} {
			if err := os.WriteFile(filepath.Join(dir, w.file), []byte(w.value), 0o644); err != nil {
				// The pid may be the last file written: its own error says
				// it is not confined, and the others are not confined
				// either, so the suite says so once and goes on.
				t.Logf("cannot confine %s (%s: %v): budgets are checked from VmHWM only", id, w.file, err)
				return c
			}
		}
	}
	t.Logf("each app runs in a memory cgroup of its budget under %s/pixshare-hostile-%d-*", cgroupRoot, os.Getpid())
	return c
}

// check fails t for each cgroup that OOM-killed its app, and logs each
// cgroup's peak and how often it hit its limit (reclaim, not yet a kill).
func (c *confinement) check(t *testing.T) {
	t.Helper()
	for id, dir := range c.dirs {
		read := func(f string) string {
			b, _ := os.ReadFile(filepath.Join(dir, f))
			return strings.TrimSpace(string(b))
		}
		maxUsage, _ := strconv.ParseInt(read("memory.max_usage_in_bytes"), 10, 64)
		kills := ""
		for _, line := range strings.Split(read("memory.oom_control"), "\n") {
			if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
				kills = v
			}
		}
		t.Logf("cgroup %-12s peak %4d MiB (limit %d MiB), failcnt %s, oom_kill %s", id, maxUsage>>20, budgetOf(id)>>20, read("memory.failcnt"), kills)
		if kills != "" && kills != "0" {
			t.Errorf("%s was OOM-killed %s time(s) in its %d MiB cgroup", id, kills, budgetOf(id)>>20)
		}
	}
}
