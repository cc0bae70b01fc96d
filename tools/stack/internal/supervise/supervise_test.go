package supervise

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"pixshare/platform/syncbuf"
	"pixshare/tools/stack/internal/console"
)

func newSupervisor() (*Supervisor, *syncbuf.Buffer) {
	out := &syncbuf.Buffer{}
	return New(console.New(out, false, []string{"early", "group", "app", "app.dapr"})), out
}

func sh(name, script string, wave int) Spec {
	return Spec{Name: name, Path: "/bin/sh", Args: []string{"-c", script}, Env: os.Environ(), Wave: wave}
}

func TestEarlyExitIsReportedWithLastLines(t *testing.T) {
	s, out := newSupervisor()
	defer s.Stop(time.Second)
	if err := s.Start(context.Background(), sh("early", "echo one; echo two; echo three >&2; exit 3", 0)); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-s.Exits():
		if e.Name != "early" || e.Status != "exit status 3" {
			t.Errorf("exit = %+v", e)
		}
		for _, want := range []string{"one", "two", "three"} {
			if !slices.Contains(e.Lines, want) {
				t.Errorf("last lines %q lack %q", e.Lines, want)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("exit not reported")
	}
	if !strings.Contains(out.String(), "early    │ one\n") {
		t.Errorf("output not prefixed:\n%s", out.String())
	}
}

func TestStopKillsWholeGroupIncludingGrandchild(t *testing.T) {
	s, _ := newSupervisor()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild.pid")
	// Both the shell and its background grandchild ignore SIGTERM, so only
	// the final SIGKILL of the whole group can end them.
	script := `trap "" TERM; sleep 300 & echo $! > ` + pidFile + `; wait`
	if err := s.Start(context.Background(), sh("group", script, 0)); err != nil {
		t.Fatal(err)
	}
	grandchild := waitForPid(t, pidFile)

	start := time.Now()
	killed := s.Stop(500 * time.Millisecond)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Stop took %v", took)
	}
	if !slices.Equal(killed, []string{"group"}) {
		t.Errorf("killed = %q, want [group]", killed)
	}
	if !gone(grandchild, 3*time.Second) {
		t.Errorf("grandchild %d survived Stop", grandchild)
	}
	select {
	case e := <-s.Exits():
		t.Errorf("stop reported as an unexpected exit: %+v", e)
	default:
	}
}

func TestStopTerminatesAppsBeforeSidecars(t *testing.T) {
	s, _ := newSupervisor()
	order := filepath.Join(t.TempDir(), "order")
	handler := func(name string) string {
		return `trap "echo ` + name + ` >> ` + order + `; exit 0" TERM; while :; do sleep 0.05; done`
	}
	// Start the sidecar first: the order of Start must not matter.
	if err := s.Start(context.Background(), sh("app.dapr", handler("sidecar"), 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background(), sh("app", handler("app"), 0)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let both shells install their traps

	if killed := s.Stop(10 * time.Second); len(killed) != 0 {
		t.Errorf("graceful children were killed: %q", killed)
	}
	got, _ := os.ReadFile(order)
	if string(got) != "app\nsidecar\n" {
		t.Errorf("termination order %q, want app then sidecar", got)
	}
}

func TestStartFailsForMissingBinary(t *testing.T) {
	s, _ := newSupervisor()
	defer s.Stop(time.Second)
	err := s.Start(context.Background(), Spec{Name: "x", Path: "/nonexistent/bin/x"})
	if err == nil || !strings.Contains(err.Error(), "start x:") {
		t.Errorf("err = %v", err)
	}
	s.Stop(time.Second)
	if err := s.Start(context.Background(), sh("early", "true", 0)); err == nil {
		t.Error("Start after Stop succeeded")
	}
}

func waitForPid(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(path)
		if pid, convErr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && convErr == nil && pid > 0 {
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("grandchild never started")
	return 0
}

// gone reports whether pid no longer runs; a zombie waiting for a reaper
// that is not ours counts as gone.
func gone(pid int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for {
		err := syscall.Kill(pid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return true
		}
		if stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
			if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 0 && f[0] == "Z" {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
