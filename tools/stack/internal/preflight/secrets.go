// Package preflight checks and prepares everything the stack needs before any
// process starts, so that problems surface as one clear message instead of a
// crashing sidecar: the data directory and its secrets file, free ports, and
// the apps' binaries.
package preflight

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SecretsFile is read by the Dapr local-file secret store
// (components/local/secrets.yaml).
const SecretsFile = "secrets.json"

// EnsureDataDir creates the data directory (private: it holds the key below
// and every local database) and, on first run, the secrets file with a fresh
// JWT signing key. An existing secrets file is never touched, so tokens stay
// valid across restarts. It reports whether the secrets file was created; the
// key itself is never returned or logged.
func EnsureDataDir(dir string) (bool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("create data dir: %w", err)
	}
	key := make([]byte, 48)
	if _, err := rand.Read(key); err != nil {
		return false, fmt.Errorf("generate jwt signing key: %w", err)
	}
	body, err := json.MarshalIndent(map[string]string{
		"jwt-signing-key": base64.StdEncoding.EncodeToString(key),
	}, "", "  ")
	if err != nil {
		return false, fmt.Errorf("encode secrets: %w", err)
	}
	// O_EXCL makes "create once" atomic even if two launchers race.
	path := filepath.Join(dir, SecretsFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(append(body, '\n')); err != nil {
		f.Close()
		os.Remove(path) // a half-written key file would break every later run
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, nil
}
