package preflight

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestEnsureDataDirWritesSecretsOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", ".data")
	created, err := EnsureDataDir(dir)
	if err != nil || !created {
		t.Fatalf("first run: created=%v err=%v", created, err)
	}
	path := filepath.Join(dir, SecretsFile)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("secrets mode %o, want 600", perm)
	}
	first, _ := os.ReadFile(path)
	var secrets map[string]string
	if err := json.Unmarshal(first, &secrets); err != nil {
		t.Fatalf("secrets file is not JSON: %v", err)
	}
	key, err := base64.StdEncoding.DecodeString(secrets["jwt-signing-key"])
	if err != nil || len(key) != 48 {
		t.Errorf("jwt-signing-key decodes to %d bytes (err %v), want 48", len(key), err)
	}
	if len(secrets) != 1 {
		t.Errorf("unexpected keys: %v", secrets)
	}

	created, err = EnsureDataDir(dir)
	if err != nil || created {
		t.Fatalf("second run: created=%v err=%v", created, err)
	}
	second, _ := os.ReadFile(path)
	if string(first) != string(second) {
		t.Error("existing secrets file was overwritten")
	}

	// A file someone edited is left exactly as it is.
	if err := os.WriteFile(path, []byte(`{"jwt-signing-key":"mine"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureDataDir(dir); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != `{"jwt-signing-key":"mine"}` {
		t.Errorf("edited secrets replaced by %s", got)
	}
}
