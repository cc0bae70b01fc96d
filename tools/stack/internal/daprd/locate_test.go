package daprd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeDaprd writes a shell script that answers --version like daprd does.
func fakeDaprd(t *testing.T, dir, version string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "daprd")
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho "+version+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLocate(t *testing.T) {
	ctx := context.Background()
	t.Setenv("PATH", t.TempDir()) // nothing on PATH

	runDir := t.TempDir()
	home := t.TempDir()
	homeDaprd := fakeDaprd(t, filepath.Join(home, ".dapr", "bin"), Version)

	// Only ~/.dapr has one: found there.
	got, err := Locate(ctx, Candidates{RunDir: runDir, Home: home})
	if err != nil || got != homeDaprd {
		t.Fatalf("Locate = %q, %v; want %q", got, err, homeDaprd)
	}

	// bin/daprd takes precedence when its version is right…
	binDaprd := fakeDaprd(t, filepath.Join(runDir, "bin"), Version)
	if got, err := Locate(ctx, Candidates{RunDir: runDir, Home: home}); err != nil || got != binDaprd {
		t.Fatalf("Locate = %q, %v; want %q", got, err, binDaprd)
	}
	// …and is skipped when it is not.
	fakeDaprd(t, filepath.Join(runDir, "bin"), "edge")
	if got, err := Locate(ctx, Candidates{RunDir: runDir, Home: home}); err != nil || got != homeDaprd {
		t.Fatalf("Locate = %q, %v; want %q", got, err, homeDaprd)
	}

	// An explicit choice is the only one tried.
	wrong := fakeDaprd(t, filepath.Join(t.TempDir(), "x"), "1.13.0")
	_, err = Locate(ctx, Candidates{Flag: wrong, RunDir: runDir, Home: home})
	if err == nil || !strings.Contains(err.Error(), `version "1.13.0"`) || !strings.Contains(err.Error(), "run `make daprd`") {
		t.Fatalf("explicit wrong version: err = %v", err)
	}
	if got, err := Locate(ctx, Candidates{Env: homeDaprd, RunDir: runDir}); err != nil || got != homeDaprd {
		t.Fatalf("env choice: %q, %v", got, err)
	}

	// A bare name is resolved through PATH.
	pathDir := t.TempDir()
	onPath := fakeDaprd(t, pathDir, Version)
	t.Setenv("PATH", pathDir)
	if got, err := Locate(ctx, Candidates{RunDir: t.TempDir()}); err != nil || got != onPath {
		t.Fatalf("PATH: %q, %v", got, err)
	}

	// Nothing anywhere: the message names every place and the fix.
	t.Setenv("PATH", t.TempDir())
	empty := t.TempDir()
	_, err = Locate(ctx, Candidates{RunDir: empty, Home: empty})
	want := "daprd 1.14.0 not found (looked in " + filepath.Join(empty, "bin", "daprd") + ": not found; daprd on PATH: not found; " +
		filepath.Join(empty, ".dapr", "bin", "daprd") + ": not found): run `make daprd`"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}
