// Package house checks the module graph: services stand side by side.
// A service module may depend only on platform (how we build), proto and
// contracts (what services agree on), never on another service; contracts
// only on platform and proto; platform only on proto. The check reads what
// the Go tool itself resolves with the workspace off, so it sees exactly
// what a standalone build of each module would.
package house

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// allowed lists, per module, the pixshare modules it may depend on besides
// itself.
var allowed = map[string][]string{
	"user":      {"platform", "proto", "contracts"},
	"post":      {"platform", "proto", "contracts"},
	"comment":   {"platform", "proto", "contracts"},
	"search":    {"platform", "proto", "contracts"},
	"workers":   {"platform", "proto", "contracts"},
	"gateway":   {"platform", "proto", "contracts"},
	"contracts": {"platform", "proto"},
	"platform":  {"proto"},
	"proto":     {},
}

func TestServicesStandSideBySide(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for mod, ok := range allowed {
		t.Run(mod, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("go", "list", "-deps", "-test", "-f", "{{.ImportPath}}", "./...")
			cmd.Dir = filepath.Join(root, mod)
			cmd.Env = append(os.Environ(), "GOWORK=off")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go list in %s (GOWORK=off): %v\n%s", mod, err, out)
			}
			for _, pkg := range strings.Fields(string(out)) {
				other, isOurs := strings.CutPrefix(pkg, "pixshare/")
				if !isOurs {
					continue
				}
				other, _, _ = strings.Cut(other, "/")
				other = strings.TrimSuffix(other, ".test")
				if other == mod || contains(ok, other) {
					continue
				}
				t.Errorf("%s depends on %s (through %s); it may depend only on %v", mod, other, pkg, ok)
			}
		})
	}
}

// TestEveryModuleIsChecked keeps the list above complete: a new module of
// the workspace must say what it may depend on.
func TestEveryModuleIsChecked(t *testing.T) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Path}}")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -m: %v\n%s", err, out)
	}
	for _, path := range strings.Fields(string(out)) {
		name := strings.TrimPrefix(path, "pixshare/")
		if strings.HasPrefix(name, "tools/") || name == "e2e" {
			continue // tools and tests may use anything
		}
		if _, ok := allowed[name]; !ok {
			t.Errorf("module %s is not in the house check's list", path)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestEverySettingIsDocumented keeps the README's configuration table
// true: every environment variable an app reads is named there.
func TestEverySettingIsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	envTag := regexp.MustCompile("env:\"([A-Z0-9_]+)\"")
	for _, mod := range []string{"platform", "contracts", "user", "post", "comment", "search", "workers", "gateway"} {
		err := filepath.WalkDir(filepath.Join("../..", mod), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range envTag.FindAllStringSubmatch(string(src), -1) {
				if !strings.Contains(string(readme), "`"+m[1]+"`") {
					t.Errorf("%s reads %s, which the README's configuration table does not name", path, m[1])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
