package preflight

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"pixshare/tools/stack/internal/runfile"
)

// CommandPath resolves an app's command like the shell would from its
// appDirPath: absolute as is, with a slash relative to appDirPath, a bare
// name through PATH. An app without a command (sidecar only) returns "".
func CommandPath(app runfile.App) (string, error) {
	if len(app.Command) == 0 {
		return "", nil
	}
	name := app.Command[0]
	if !strings.ContainsRune(name, '/') {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%s not found in PATH", name)
		}
		return p, nil
	}
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(app.AppDirPath, p)
	}
	info, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s not found: run `make build`", name)
	case err != nil:
		return "", fmt.Errorf("%s: %w", name, err)
	case info.IsDir() || info.Mode()&0o111 == 0:
		return "", fmt.Errorf("%s is not an executable file", name)
	}
	return p, nil
}

// CheckCommands reports every app whose command is missing, all at once, so
// one `make build` fixes them all.
func CheckCommands(apps []runfile.App) error {
	var errs []error
	for _, a := range apps {
		if _, err := CommandPath(a); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
