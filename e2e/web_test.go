package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"pixshare/platform/daprtest"
)

// TestWebJourney starts the stack as `make run` does and walks the web
// client's journey in a real browser: web/test/journey.mjs drives Debian's
// Chromium with playwright-core (two people sign up, upload, find, follow,
// like, comment, search, block), saving a screenshot of every screen at a
// phone and a desktop size into the test's artifact folder (go test
// -artifacts -outputdir DIR) and checking each with axe-core.
//
// It needs chromium and web/node_modules (npm ci), so it runs only when
// PIXSHARE_WEB_E2E is set; .ci/run installs both and sets it.
func TestWebJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e skipped in -short mode")
	}
	if os.Getenv("PIXSHARE_WEB_E2E") == "" {
		t.Skip("the browser journey runs with PIXSHARE_WEB_E2E=1 (needs chromium and `npm ci` in web/; .ci/run sets it up)")
	}
	repo, err := daprtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(repo, "web")
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no browser at %s (apt-get install chromium, or set CHROMIUM): %v", chromium, err)
	}
	if _, err := os.Stat(filepath.Join(web, "node_modules", "playwright-core")); err != nil {
		t.Fatalf("web/node_modules is missing: run npm ci in web/: %v", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed")
	}

	s := Start(t, Options{})
	out := t.ArtifactDir()
	t.Logf("screenshots: %s", out)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("test", "journey.mjs"))
	cmd.Dir = web
	cmd.Env = append(os.Environ(),
		"PIXSHARE_URL="+s.Gateway,
		"PIXSHARE_OUT="+out,
		"PIXSHARE_PHOTO="+filepath.Join(repo, "testdata", "photos", "landscape.jpg"),
		"CHROMIUM="+chromium,
	)
	// Its own process group, so a timeout ends the browser too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Stdout = t.Output()
	cmd.Stderr = t.Output()
	start := time.Now()
	err = cmd.Run()
	t.Logf("the journey took %s", time.Since(start).Round(time.Second))
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("the journey did not finish within 5 minutes")
	}
	if err != nil {
		t.Fatalf("the journey failed: %v", err)
	}

	s.Stop(t)
	if left := s.Leftovers(); len(left) > 0 {
		t.Fatalf("processes left after stop:\n%s", strings.Join(left, "\n"))
	}
}
