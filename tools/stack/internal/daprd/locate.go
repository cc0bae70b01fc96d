// Package daprd knows how to find the Dapr sidecar binary and how to start it
// (and its app) the way the Dapr CLI would: arguments and environment.
package daprd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Version is the only sidecar version the project's components and tests are
// written against.
const Version = "1.14.0"

// Candidates lists where to look for daprd, in order of preference: the -daprd
// flag, $PIXSHARE_DAPRD, <run file dir>/bin/daprd (what `make daprd` builds),
// daprd on PATH, and ~/.dapr/bin/daprd (what `dapr init` installs).
type Candidates struct {
	Flag   string
	Env    string
	RunDir string
	Home   string
}

// Locate returns the path of a daprd that reports Version. An explicit choice
// (flag or environment) is the only one tried, so a wrong one is reported
// rather than silently replaced; otherwise the first good candidate wins.
func Locate(ctx context.Context, c Candidates) (string, error) {
	var paths []string
	switch {
	case c.Flag != "":
		paths = []string{c.Flag}
	case c.Env != "":
		paths = []string{c.Env}
	default:
		if c.RunDir != "" {
			paths = append(paths, filepath.Join(c.RunDir, "bin", "daprd"))
		}
		paths = append(paths, "daprd") // a bare name is looked up on PATH
		if c.Home != "" {
			paths = append(paths, filepath.Join(c.Home, ".dapr", "bin", "daprd"))
		}
	}
	var looked []string
	for _, p := range paths {
		resolved, v, err := versionOf(ctx, p)
		switch {
		case err != nil:
			label := p
			if !strings.ContainsRune(p, filepath.Separator) {
				label = p + " on PATH"
			}
			looked = append(looked, fmt.Sprintf("%s: %v", label, err))
		case v != Version:
			looked = append(looked, fmt.Sprintf("%s: version %q", resolved, v))
		default:
			return resolved, nil
		}
	}
	return "", fmt.Errorf("daprd %s not found (looked in %s): run `make daprd`", Version, strings.Join(looked, "; "))
}

// versionOf resolves path (a bare name through PATH) and runs
// `daprd --version`, which prints the bare version.
func versionOf(ctx context.Context, path string) (string, string, error) {
	resolved, err := exec.LookPath(path)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return "", "", errors.New("not found")
		}
		return "", "", err
	}
	if abs, err := filepath.Abs(resolved); err == nil {
		resolved = abs
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, resolved, "--version").Output()
	if err != nil {
		return resolved, "", fmt.Errorf("run --version: %w", err)
	}
	return resolved, strings.TrimSpace(string(out)), nil
}
