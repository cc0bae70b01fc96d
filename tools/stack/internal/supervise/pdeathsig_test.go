package supervise

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"pixshare/tools/stack/internal/console"
)

// The test binary doubles as a throwaway launcher: with this variable set it
// starts one child through a Supervisor and then waits to be killed.
const helperEnv = "SUPERVISE_TEST_LAUNCHER_PIDFILE"

func TestMain(m *testing.M) {
	if pidFile := os.Getenv(helperEnv); pidFile != "" {
		s := New(console.New(os.Stdout, false, []string{"child"}))
		script := "echo $$ > " + pidFile + "; exec sleep 300"
		if err := s.Start(context.Background(), Spec{Name: "child", Path: "/bin/sh", Args: []string{"-c", script}}); err != nil {
			os.Exit(2)
		}
		select {}
	}
	os.Exit(m.Run())
}

func TestChildDiesWithLauncherKilledBySIGKILL(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("parent-death signal is Linux only")
	}
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	launcher := exec.Command(os.Args[0], "-test.run=^$")
	launcher.Env = append(os.Environ(), helperEnv+"="+pidFile)
	if err := launcher.Start(); err != nil {
		t.Fatal(err)
	}
	child := waitForPid(t, pidFile)
	if gone(child, 0) {
		t.Fatal("child not running before the launcher was killed")
	}
	if err := launcher.Process.Kill(); err != nil { // SIGKILL: no cleanup code runs
		t.Fatal(err)
	}
	launcher.Wait()
	if !gone(child, 3*time.Second) {
		t.Errorf("child %d survived its launcher's SIGKILL", child)
	}
}
