package runfile

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The repository's dapr.yaml is read by the Dapr CLI (`dapr run -f .`) as it
// is: nothing checks it before a sidecar or an app fails to start. These
// tests load it with this package's copy of the CLI's rules (field names,
// common merged into apps, relative paths from the run file's directory or
// the app's appDirPath, resourcesPath appended to resourcesPaths, every path
// checked to exist) and check what the CLI would run.

// repoRoot is the repository holding this module, or "" when the module is
// used on its own.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "dapr.yaml")); err != nil {
		return ""
	}
	return root
}

// checkRunFile loads the run file at path like the Dapr CLI and reports
// every problem the CLI would only show by failing: a resources folder,
// configuration file, appDirPath or runtimePath that does not exist (Load
// stats them all), a key no CLI reads, and a command that `make build` (the
// Makefile of root) does not produce.
func checkRunFile(root, path string) ([]App, error) {
	apps, warnings, err := Load(path)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, w := range warnings {
		errs = append(errs, errors.New(w))
	}
	builds, err := makeBuilds(root)
	if err != nil {
		return nil, err
	}
	for i, app := range apps {
		if len(app.Command) == 0 {
			errs = append(errs, fmt.Errorf("apps[%d] (%s): no command: the CLI would start its sidecar alone", i, app.AppID))
			continue
		}
		// The CLI starts the command in appDirPath; a name with a slash is
		// a file there, not something looked up in PATH.
		cmd := app.Command[0]
		if !strings.ContainsRune(cmd, '/') {
			errs = append(errs, fmt.Errorf("apps[%d] (%s): command %q would be looked up in PATH, not built here", i, app.AppID, cmd))
			continue
		}
		bin := cmd
		if !filepath.IsAbs(bin) {
			bin = filepath.Join(app.AppDirPath, bin)
		}
		rel, err := filepath.Rel(root, bin)
		if err != nil {
			errs = append(errs, fmt.Errorf("apps[%d] (%s): command %s: %w", i, app.AppID, cmd, err))
			continue
		}
		pkg, ok := builds[filepath.ToSlash(rel)]
		if !ok {
			errs = append(errs, fmt.Errorf("apps[%d] (%s): command %s: `make build` does not build %s (Makefile APPS)", i, app.AppID, cmd, rel))
			continue
		}
		if err := isMainPackage(filepath.Join(root, pkg)); err != nil {
			errs = append(errs, fmt.Errorf("apps[%d] (%s): command %s is built from %s: %w", i, app.AppID, cmd, pkg, err))
		}
		// After `make build` the binary itself must be an executable file.
		if info, err := os.Stat(bin); err == nil && (info.IsDir() || info.Mode()&0o111 == 0) {
			errs = append(errs, fmt.Errorf("apps[%d] (%s): %s is not an executable file", i, app.AppID, bin))
		}
	}
	return apps, errors.Join(errs...)
}

// appsLine is the Makefile's list of app:module pairs; `make build` runs
// `go build -o bin/<app> ./<module>/cmd/<app>` for each.
var appsLine = regexp.MustCompile(`(?m)^APPS\s*:=\s*(.+)$`)

// makeBuilds maps every binary `make build` writes (bin/<app>) to the
// package it builds it from (<module>/cmd/<app>).
func makeBuilds(root string) (map[string]string, error) {
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		return nil, err
	}
	if !strings.Contains(string(mk), "$(GO) build -trimpath -o $(BIN)/$$app ./$$mod/cmd/$$app") {
		return nil, errors.New("Makefile: the build recipe changed; teach this test how it names binaries")
	}
	m := appsLine.FindSubmatch(mk)
	if m == nil {
		return nil, errors.New("Makefile: no APPS := line")
	}
	builds := map[string]string{}
	for _, pair := range strings.Fields(string(m[1])) {
		app, mod, ok := strings.Cut(pair, ":")
		if !ok {
			return nil, fmt.Errorf("Makefile APPS: %q is not app:module", pair)
		}
		builds["bin/"+app] = mod + "/cmd/" + app
	}
	return builds, nil
}

// isMainPackage checks that dir holds Go files of package main.
func isMainPackage(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		if pkg, err := packageName(f); err == nil && pkg == "main" {
			return nil
		}
	}
	return fmt.Errorf("no package main in %s", dir)
}

func packageName(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if name, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "package "); ok {
			return strings.TrimSpace(name), nil
		}
	}
	return "", errors.New("no package clause")
}

func TestRepositoryRunFile(t *testing.T) {
	root := repoRoot(t)
	if root == "" {
		t.Skip("not inside the repository: no dapr.yaml four levels up")
	}
	if _, err := os.Stat(filepath.Join(root, ".dapr")); err == nil {
		// <appDirPath>/.dapr/resources or config.yaml would win over common,
		// for the CLI and this loader alike; .dapr/logs alone is harmless.
		for _, p := range []string{".dapr/resources", ".dapr/config.yaml"} {
			if _, err := os.Stat(filepath.Join(root, p)); err == nil {
				t.Fatalf("%s exists and overrides dapr.yaml's common section: remove it", p)
			}
		}
	}
	t.Setenv("HOME", t.TempDir()) // no ~/.dapr fallback may hide a missing path
	apps, err := checkRunFile(root, filepath.Join(root, "dapr.yaml"))
	if err != nil {
		t.Fatalf("dapr.yaml, as the Dapr CLI reads it:\n%v", err)
	}

	redis := filepath.Join(root, "components", "redis")
	want := []string{"user", "post", "comment", "thumbnailer", "indexer", "mailer", "search", "gateway"}
	var ids []string
	for _, a := range apps {
		ids = append(ids, a.AppID)
		// `dapr run -f .` after `dapr init`: the redis profile.
		if len(a.ResourcesPaths) != 1 || a.ResourcesPaths[0] != redis {
			t.Errorf("%s: resources %q, want [%s]", a.AppID, a.ResourcesPaths, redis)
		}
		if a.ConfigFile != filepath.Join(redis, "config.yaml") {
			t.Errorf("%s: configuration %s, want components/redis/config.yaml", a.AppID, a.ConfigFile)
		}
		if a.AppDirPath != root {
			t.Errorf("%s: appDirPath %s, want the repository root (components/ paths are relative to it)", a.AppID, a.AppDirPath)
		}
		if a.AppProtocol != "grpc" || a.APIListenAddresses != "127.0.0.1" {
			t.Errorf("%s: appProtocol %q, apiListenAddresses %q", a.AppID, a.AppProtocol, a.APIListenAddresses)
		}
		// The two spellings of the body limit (CLI 1.14, CLI 1.15+) agree.
		if a.MaxRequestSizeMB == 0 || a.MaxBodySize != fmt.Sprintf("%dMi", a.MaxRequestSizeMB) {
			t.Errorf("%s: daprHTTPMaxRequestSize %d and maxBodySize %q disagree", a.AppID, a.MaxRequestSizeMB, a.MaxBodySize)
		}
		for _, port := range []int{a.AppPort, a.HTTPPort, a.GRPCPort, a.InternalGRPCPort, a.MetricsPort} {
			if port == 0 {
				t.Errorf("%s: a port is left to the CLI to pick; the apps and README rely on fixed ones", a.AppID)
			}
		}
	}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("apps %q, want %q", ids, want)
	}
}

// TestCheckRunFileFailsOnWrongPaths: the guard above is only worth having if
// a wrong path in dapr.yaml fails it. Each case changes one path of a copy
// of dapr.yaml placed in a copy of the repository's top level.
func TestCheckRunFileFailsOnWrongPaths(t *testing.T) {
	root := repoRoot(t)
	if root == "" {
		t.Skip("not inside the repository: no dapr.yaml four levels up")
	}
	t.Setenv("HOME", t.TempDir())
	orig, err := os.ReadFile(filepath.Join(root, "dapr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, old, new, want string
	}{
		{"resources folder", "resourcesPath: ./components/redis\n", "resourcesPath: ./components/rediss\n", `common path "./components/rediss"`},
		{"configuration file", "configFilePath: ./components/redis/config.yaml", "configFilePath: ./components/redis/konfig.yaml", `common path "./components/redis/konfig.yaml"`},
		{"app folder", "appDirPath: .\n", "appDirPath: ./nowhere\n", `appDirPath path "./nowhere"`},
		{"command", `command: ["bin/search"]`, `command: ["bin/serach"]`, "command bin/serach: `make build` does not build bin/serach"},
		{"command from PATH", `command: ["bin/gateway"]`, `command: ["gateway"]`, `command "gateway" would be looked up in PATH`},
		{"key the CLI ignores", "  appProtocol: grpc\n", "  appProtocol: grpc\n  resourcePath: ./components/local\n", `"resourcePath" is not read under common`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(string(orig), tt.old) {
				t.Fatalf("dapr.yaml no longer contains %q: update this case", tt.old)
			}
			dir := t.TempDir()
			entries, err := os.ReadDir(root)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Name() == "dapr.yaml" || e.Name() == ".dapr" {
					continue
				}
				if err := os.Symlink(filepath.Join(root, e.Name()), filepath.Join(dir, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, "dapr.yaml")
			// The unchanged copy passes: the failure below is the change's.
			if err := os.WriteFile(path, orig, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := checkRunFile(dir, path); err != nil {
				t.Fatalf("unchanged copy fails: %v", err)
			}
			changed := strings.Replace(string(orig), tt.old, tt.new, 1)
			if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = checkRunFile(dir, path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
