package runfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// absPaths turns each non-empty path into an absolute one (expanding a
// leading ~ like the CLI) relative to base, and checks that it exists: a
// typo in a path is reported here rather than by a sidecar later.
func absPaths(base, what string, paths ...*string) error {
	for _, p := range paths {
		if *p == "" {
			continue
		}
		abs, err := absPath(base, *p)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("%s path %q: %w", what, *p, err)
		}
		*p = abs
	}
	return nil
}

func absPath(base, p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("expand %q: %w", p, err)
		}
		p = filepath.Join(home, p[1:])
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	return filepath.Join(base, p), nil
}

func ptrs(s []string) []*string {
	out := make([]*string, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
