package runfile

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadMergesLikeTheDaprCLI(t *testing.T) {
	t.Setenv("HOME", t.TempDir()) // no ~/.dapr fallback may leak in
	dir, err := filepath.Abs("testdata/merge")
	if err != nil {
		t.Fatal(err)
	}
	svc := filepath.Join(dir, "svc")
	apps, warnings, err := Load(filepath.Join(dir, "run.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("unexpected warnings: %q", warnings)
	}
	if len(apps) != 3 {
		t.Fatalf("got %d apps, want 3", len(apps))
	}
	byID := map[string]App{}
	for _, a := range apps {
		byID[a.AppID] = a
	}

	tests := []struct {
		name string
		got  any
		want any
	}{
		// Per-app fields are kept as written.
		{"one command", byID["one"].Command, []string{"bin/one", "--flag"}},
		{"one ports", []int{byID["one"].AppPort, byID["one"].HTTPPort, byID["one"].GRPCPort, byID["one"].InternalGRPCPort, byID["one"].MetricsPort}, []int{50001, 3501, 50011, 50021, 9091}},
		// appDirPath resolves against the run file's directory.
		{"one appDirPath", byID["one"].AppDirPath, svc},
		// Common paths resolve against the run file's directory.
		{"one resources from common", byID["one"].ResourcesPaths, []string{filepath.Join(dir, "components")}},
		{"one config from common", byID["one"].ConfigFile, filepath.Join(dir, "config.yaml")},
		// Common fields fill zero app fields…
		{"one protocol from common", byID["one"].AppProtocol, "grpc"},
		{"one log level from common", byID["one"].LogLevel, "warn"},
		{"one body size from common", byID["one"].MaxBodySize, "32Mi"},
		{"one listen from common", byID["one"].APIListenAddresses, "127.0.0.1"},
		{"one api logging from common", byID["one"].EnableAPILogging, true},
		// Both spellings of the body limit are read (CLI 1.14 and 1.15+).
		{"one request size (CLI 1.14) from common", byID["one"].MaxRequestSizeMB, 32},
		{"one read buffer (CLI 1.14) kept", byID["one"].ReadBufferSizeKB, 8},
		// …and no size default is invented: daprd's own apply.
		{"one read buffer left to daprd", byID["one"].ReadBufferSize, ""},
		// runtimePath resolves like the other common paths.
		{"one runtimePath from common", byID["one"].DaprdInstallPath, filepath.Join(dir, "other")},
		// App env overrides common env; other keys are merged.
		{"one env", byID["one"].Env, map[string]string{"A": "common", "B": "app", "C": "app"}},
		// …but never overwrite what the app set.
		{"two protocol kept", byID["two"].AppProtocol, "http"},
		{"two log level kept", byID["two"].LogLevel, "debug"},
		// App paths resolve against the app's appDirPath; resourcesPath is
		// appended after resourcesPaths, as the CLI does.
		{"two resources", byID["two"].ResourcesPaths, []string{filepath.Join(svc, "own"), filepath.Join(dir, "other")}},
		{"two config", byID["two"].ConfigFile, filepath.Join(svc, "own.yaml")},
		{"two env from common only", byID["two"].Env, map[string]string{"A": "common", "B": "common"}},
		{"two health", []int{byID["two"].AppHealthInterval, byID["two"].AppHealthTimeout, byID["two"].AppHealthThreshold}, []int{3, 500, 2}},
		{"two health enabled", byID["two"].EnableAppHealth, true},
		// appID defaults to the directory name; <appDirPath>/.dapr/ wins over common.
		{"named resources from .dapr", byID["named"].ResourcesPaths, []string{filepath.Join(svc, "named", ".dapr", "resources")}},
		{"named config from .dapr", byID["named"].ConfigFile, filepath.Join(svc, "named", ".dapr", "config.yaml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}

	// Apps must not share one env map: changing one must not change another.
	byID["two"].Env["A"] = "changed"
	if apps[2].Env["A"] != "common" {
		t.Errorf("apps share the common env map")
	}
}

func TestLoadWithoutCommon(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	apps, _, err := Load("testdata/merge/nocommon.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	a := apps[0]
	if a.AppProtocol != "http" {
		t.Errorf("default app protocol not applied: %+v", a.Shared)
	}
	// The CLI's size defaults are daprd's: nothing to pass.
	if a.MaxBodySize != "" || a.ReadBufferSize != "" || a.MaxRequestSizeMB != 0 || a.ReadBufferSizeKB != 0 {
		t.Errorf("size defaults invented: %+v", a.Shared)
	}
	if len(a.ResourcesPaths) != 0 || a.ConfigFile != "" {
		t.Errorf("no resources or config expected without ~/.dapr, got %q %q", a.ResourcesPaths, a.ConfigFile)
	}
	if a.Env != nil {
		t.Errorf("env = %v, want nil", a.Env)
	}
}

func TestLoadWarnsAboutIgnoredKeys(t *testing.T) {
	apps, warnings, err := Load("testdata/merge/unknown.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(apps) != 1 {
		t.Fatalf("got %d apps", len(apps))
	}
	joined := strings.Join(warnings, "\n")
	for _, want := range []string{`"appChannelAddress" is not read under common`, `"comand" is not read in an app`} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings %q lack %q", warnings, want)
		}
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"noversion.yaml", "required field 'version' not found"},
		{"empty.yaml", "the file is empty"},
		{"noappdir.yaml", "apps[0] (one): required field 'appDirPath' not found"},
		{"dup.yaml", `duplicate appID "one" (apps[0] and apps[1])`},
		{"badpath.yaml", `app path "./does-not-exist"`},
		{"badruntime.yaml", `common path "./no-dapr-here"`},
		{"badlogdest.yaml", `apps[0] (one): appLogDestination "stdout": the Dapr CLI accepts console, file or fileAndConsole`},
		{"noapps.yaml", "no apps listed"},
		{"badtype.yaml", "cannot unmarshal"},
		{"missing.yaml", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, _, err := Load(filepath.Join("testdata/merge", tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	apps := []App{{AppID: "user"}, {AppID: "post"}, {AppID: "gateway"}}
	tests := []struct {
		ids     []string
		want    []string
		wantErr string
	}{
		{nil, []string{"user", "post", "gateway"}, ""},
		{[]string{"gateway", "user"}, []string{"user", "gateway"}, ""},
		{[]string{"user", "nope"}, nil, "unknown app id(s) nope (the run file has user, post, gateway)"},
	}
	for _, tt := range tests {
		got, err := Select(apps, tt.ids)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Select(%q) err = %v, want %q", tt.ids, err, tt.wantErr)
			}
			continue
		}
		var ids []string
		for _, a := range got {
			ids = append(ids, a.AppID)
		}
		if !reflect.DeepEqual(ids, tt.want) {
			t.Errorf("Select(%q) = %q, want %q", tt.ids, ids, tt.want)
		}
	}
}

func TestOverride(t *testing.T) {
	other, _ := filepath.Abs("testdata/merge/other")
	cfg, _ := filepath.Abs("testdata/merge/config.yaml")
	apps := []App{{AppID: "a"}, {AppID: "b", Shared: Shared{ResourcesPaths: []string{"/x"}, ConfigFile: "/y"}}}
	if err := Override(apps, []string{other}, cfg); err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		if !reflect.DeepEqual(a.ResourcesPaths, []string{other}) || a.ConfigFile != cfg {
			t.Errorf("%s not overridden: %q %q", a.AppID, a.ResourcesPaths, a.ConfigFile)
		}
	}
	if err := Override(apps, []string{"/nonexistent/profile"}, ""); err == nil {
		t.Error("missing resources path accepted")
	}
}
