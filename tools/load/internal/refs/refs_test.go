package refs

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestReadTokens(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "user.env")
	if err := os.WriteFile(p, []byte("DAPR_API_TOKEN=abc\n\n# comment\nAPP_API_TOKEN = def\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTokens(p)
	if err != nil {
		t.Fatal(err)
	}
	if got["DAPR_API_TOKEN"] != "abc" || got["APP_API_TOKEN"] != "def" || len(got) != 2 {
		t.Fatalf("got %v", got)
	}
	if _, err := ReadTokens(filepath.Join(t.TempDir(), "missing.env")); err == nil {
		t.Fatal("a missing file is no error")
	}
}

func TestArgon2ParamsAreTheUserServiceDefaults(t *testing.T) {
	t.Parallel()
	// user/internal/service: ARGON2_MEMORY_KIB=19456, ARGON2_ITERATIONS=2;
	// user/internal/adapters/password.go: one lane, 16-byte salt, 32-byte key.
	p := Argon2Params
	if p.Memory != 19456 || p.Iterations != 2 || p.Parallelism != 1 || p.SaltLength != 16 || p.KeyLength != 32 {
		t.Fatalf("params %+v drifted from the user service's", p)
	}
}

func TestRunArgon2Reports(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes for a moment")
	}
	t.Parallel()
	a, err := RunArgon2(100 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if a.OneCoreMs <= 0 || a.PerSecond <= 0 || a.Goroutines < 1 {
		t.Fatalf("%+v", a)
	}
}
