package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestRealDaprd runs two apps (the fake app binary) beside real 1.14.0
// sidecars: it proves the flags the launcher passes are ones daprd accepts
// and that the first-sidecar SQLite bootstrap works. It needs the sidecar
// built by `make daprd` (or named by $PIXSHARE_DAPRD).
func TestRealDaprd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real sidecars; skipped with -short")
	}
	path := os.Getenv("PIXSHARE_DAPRD")
	if path == "" {
		path = filepath.Join("..", "..", "bin", "daprd")
	}
	path, _ = filepath.Abs(path)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no daprd at %s (build it with `make daprd`, or set PIXSHARE_DAPRD)", path)
	}
	f := newFixture(t,
		fakeAppSpec{id: "user", httpAddr: true, noAppPort: true},
		fakeAppSpec{id: "worker", noAppPort: true},
	)
	f.opts.daprd = path
	// SQLite name resolution on loopback, as in components/local: the default
	// (mDNS) would multicast on the network.
	f.opts.config = filepath.Join(f.dir, "config.yaml")
	config := `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: test
spec:
  nameResolution:
    component: sqlite
    version: v1
    configuration:
      connectionString: .data/nameresolution.db
`
	if err := os.WriteFile(f.opts.config, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PIXSHARE_DAPRD", "") // the fixture's explicit -daprd is what counts

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr, wait := f.start(ctx)
	waitFor(t, stdout, regexp.MustCompile(`(?m)^ready: .*$`))

	// The sidecar knows its app id: the flags reached it.
	var meta struct {
		ID string `json:"id"`
	}
	getJSON(t, "http://127.0.0.1:"+strconv.Itoa(f.apps[0].ports[1])+"/v1.0/metadata", sidecarToken(t, f.dir, "user"), &meta)
	if meta.ID != "user" {
		t.Errorf("metadata id = %q", meta.ID)
	}
	if _, err := os.Stat(filepath.Join(f.dir, ".data", "nameresolution.db")); err != nil {
		t.Errorf("name resolution database not created: %v", err)
	}

	cancel()
	if code := wait(); code != 0 {
		t.Errorf("exit code %d; stderr:\n%s\nstdout:\n%s", code, stderr.String(), stdout.String())
	}
	t.Log("launcher output:\n" + stdout.String())
	if out := stdout.String(); !strings.HasSuffix(out, "stopped\n") || strings.Contains(out, "killed after") {
		t.Errorf("unclean stop:\n%s", out)
	}
}
