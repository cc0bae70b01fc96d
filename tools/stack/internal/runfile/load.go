package runfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads the run file at path and returns its apps merged the way the
// Dapr CLI merges them, together with warnings about keys the CLI would
// silently ignore (typos, per-app fields written under `common`).
func Load(path string) ([]App, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read run file: %w", err)
	}
	f, warnings, err := decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", path, err)
	}
	baseDir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, nil, fmt.Errorf("locate run file: %w", err)
	}
	apps, err := f.resolve(baseDir)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return apps, warnings, nil
}

// unknownField matches yaml.v3's strict-mode complaint about a key that has no
// struct field.
var unknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found in type runfile\.(\w+)$`)

// decode parses twice: strictly, only to collect unknown keys as warnings
// (the CLI ignores them, so must we), then leniently for the real result.
func decode(data []byte) (*File, []string, error) {
	var warnings []string
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	var probe File
	if err := strict.Decode(&probe); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, msg := range te.Errors {
				if m := unknownField.FindStringSubmatch(msg); m != nil {
					warnings = append(warnings, fmt.Sprintf("line %s: %q is not read %s (the Dapr CLI ignores it too)", m[1], m[2], section(m[3])))
				}
			}
		}
	}
	var f File
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, nil, err
	}
	if f.Version == 0 {
		// An empty document decodes without error; both cases mean the same.
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, nil, errors.New("the file is empty")
		}
		return nil, nil, errors.New("required field 'version' not found")
	}
	return &f, warnings, nil
}

func section(typeName string) string {
	switch typeName {
	case "Shared":
		return "under common"
	case "App":
		return "in an app"
	default:
		return "at the top level"
	}
}

// resolve validates the file and returns the merged apps, in the order of
// the Dapr CLI: paths first, then resources/config precedence, then the
// common section, then env, then defaults.
func (f *File) resolve(baseDir string) ([]App, error) {
	if len(f.Apps) == 0 {
		return nil, errors.New("no apps listed under 'apps'")
	}
	common := f.Common
	// Relative paths in common mean "from the run file's directory".
	if err := absPaths(baseDir, "common", &common.ConfigFile, &common.ResourcesPath, &common.DaprdInstallPath); err != nil {
		return nil, err
	}
	common.ResourcesPaths = append([]string(nil), common.ResourcesPaths...)
	if err := absPaths(baseDir, "common", ptrs(common.ResourcesPaths)...); err != nil {
		return nil, err
	}
	if strings.TrimSpace(common.ResourcesPath) != "" {
		common.ResourcesPaths = append(common.ResourcesPaths, common.ResourcesPath)
	}

	apps := make([]App, len(f.Apps))
	for i, in := range f.Apps {
		app, err := resolveApp(baseDir, common, in)
		if err != nil {
			return nil, fmt.Errorf("apps[%d]%s: %w", i, label(in.AppID), err)
		}
		apps[i] = app
	}
	seen := map[string]int{}
	for i, app := range apps {
		if j, dup := seen[app.AppID]; dup {
			return nil, fmt.Errorf("duplicate appID %q (apps[%d] and apps[%d])", app.AppID, j, i)
		}
		seen[app.AppID] = i
	}
	return apps, nil
}

func label(id string) string {
	if id == "" {
		return ""
	}
	return " (" + id + ")"
}

func resolveApp(baseDir string, common Shared, app App) (App, error) {
	if strings.TrimSpace(app.AppDirPath) == "" {
		return app, errors.New("required field 'appDirPath' not found")
	}
	if err := absPaths(baseDir, "appDirPath", &app.AppDirPath); err != nil {
		return app, err
	}
	// An app's own relative paths mean "from its appDirPath".
	if err := absPaths(app.AppDirPath, "app", &app.ConfigFile, &app.ResourcesPath, &app.DaprdInstallPath); err != nil {
		return app, err
	}
	app.ResourcesPaths = append([]string(nil), app.ResourcesPaths...)
	if err := absPaths(app.AppDirPath, "app", ptrs(app.ResourcesPaths)...); err != nil {
		return app, err
	}
	if strings.TrimSpace(app.ResourcesPath) != "" {
		app.ResourcesPaths = append(app.ResourcesPaths, app.ResourcesPath)
	}
	resolveResources(&app, common)
	resolveConfig(&app, common)
	mergeShared(&app.Shared, common)
	mergeEnv(&app, common.Env)
	applyDefaults(&app)
	if err := checkLogDestinations(app.Shared); err != nil {
		return app, err
	}
	if len(app.Command) > 0 && strings.TrimSpace(app.Command[0]) == "" {
		return app, errors.New("'command' starts with an empty string")
	}
	return app, nil
}

// resolveResources applies the CLI precedence: the app's resourcesPaths, then
// <appDirPath>/.dapr/resources, then common's, then ~/.dapr/components (only
// if present: unlike the CLI, this launcher never assumes `dapr init` ran).
func resolveResources(app *App, common Shared) {
	if len(app.ResourcesPaths) > 0 {
		return
	}
	if local := filepath.Join(app.AppDirPath, ".dapr", "resources"); exists(local) {
		app.ResourcesPaths = []string{local}
		return
	}
	if len(common.ResourcesPaths) > 0 {
		app.ResourcesPaths = append([]string(nil), common.ResourcesPaths...)
		return
	}
	if home, err := os.UserHomeDir(); err == nil && exists(filepath.Join(home, ".dapr", "components")) {
		app.ResourcesPaths = []string{filepath.Join(home, ".dapr", "components")}
	}
}

// resolveConfig mirrors resolveResources for configFilePath.
func resolveConfig(app *App, common Shared) {
	if app.ConfigFile != "" {
		return
	}
	if local := filepath.Join(app.AppDirPath, ".dapr", "config.yaml"); exists(local) {
		app.ConfigFile = local
		return
	}
	if strings.TrimSpace(common.ConfigFile) != "" {
		app.ConfigFile = common.ConfigFile
		return
	}
	if home, err := os.UserHomeDir(); err == nil && exists(filepath.Join(home, ".dapr", "config.yaml")) {
		app.ConfigFile = filepath.Join(home, ".dapr", "config.yaml")
	}
}

// mergeShared copies every common field into the app where the app's field is
// the zero value, exactly the CLI's reflective rule. Env is handled apart so
// that apps never share (and mutate) one map.
func mergeShared(app *Shared, common Shared) {
	dst := reflect.ValueOf(app).Elem()
	src := reflect.ValueOf(common)
	for i := range dst.NumField() {
		if dst.Type().Field(i).Name == "Env" {
			continue
		}
		if dst.Field(i).IsZero() {
			dst.Field(i).Set(src.Field(i))
		}
	}
}

// mergeEnv gives common env to the app for every key the app does not set.
func mergeEnv(app *App, common map[string]string) {
	if app.Env == nil && len(common) > 0 {
		app.Env = make(map[string]string, len(common))
	}
	for k, v := range common {
		if _, ok := app.Env[k]; !ok {
			app.Env[k] = v
		}
	}
}

func applyDefaults(app *App) {
	if app.AppID == "" {
		// The CLI names an app after its directory when appID is omitted.
		app.AppID = filepath.Base(app.AppDirPath)
	}
	if app.AppProtocol == "" {
		app.AppProtocol = DefaultAppProtocol
	}
}

// checkLogDestinations rejects what the Dapr CLI rejects: a log destination
// other than console, file or fileAndConsole. The launcher itself always logs
// to its console, whatever they say.
func checkLogDestinations(s Shared) error {
	for _, d := range [][2]string{{"appLogDestination", s.AppLogDestination}, {"daprdLogDestination", s.DaprdLogDestination}} {
		switch d[1] {
		case "", "console", "file", "fileAndConsole":
		default:
			return fmt.Errorf("%s %q: the Dapr CLI accepts console, file or fileAndConsole", d[0], d[1])
		}
	}
	return nil
}
