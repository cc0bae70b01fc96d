package runfile

import (
	"fmt"
	"os"
	"strings"
)

// Select keeps the apps whose ids are listed, in run-file order; no ids keeps
// every app. Unknown ids are an error so that a typo does not silently run
// a smaller stack.
func Select(apps []App, ids []string) ([]App, error) {
	if len(ids) == 0 {
		return apps, nil
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []App
	known := make([]string, 0, len(apps))
	for _, app := range apps {
		known = append(known, app.AppID)
		if want[app.AppID] {
			out = append(out, app)
			delete(want, app.AppID)
		}
	}
	if len(want) > 0 {
		var unknown []string
		for _, id := range ids {
			if want[id] {
				unknown = append(unknown, id)
			}
		}
		return nil, fmt.Errorf("unknown app id(s) %s (the run file has %s)", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return out, nil
}

// Override replaces every app's resources paths and/or configuration file,
// which is how a profile (components/redis, …) is chosen without editing
// the run file. Paths must be absolute; empty arguments change nothing.
func Override(apps []App, resources []string, config string) error {
	for _, p := range resources {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("resources path: %w", err)
		}
	}
	if config != "" {
		if _, err := os.Stat(config); err != nil {
			return fmt.Errorf("config file: %w", err)
		}
	}
	for i := range apps {
		if len(resources) > 0 {
			apps[i].ResourcesPaths = append([]string(nil), resources...)
			apps[i].ResourcesPath = ""
		}
		if config != "" {
			apps[i].ConfigFile = config
		}
	}
	return nil
}
