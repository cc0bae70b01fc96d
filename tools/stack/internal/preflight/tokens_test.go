package preflight

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pixshare/tools/stack/internal/runfile"
)

func TestNewTokens(t *testing.T) {
	dir := t.TempDir()
	apps := []runfile.App{{AppID: "a"}, {AppID: "b"}}
	apps[1].Env = map[string]string{"DAPR_API_TOKEN": "mine"}
	got, err := NewTokens(dir, apps)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := got["a"]
	if !ok || len(a.DaprAPIToken) != 48 || a.DaprAPIToken == a.AppAPIToken {
		t.Fatalf("tokens of a: %+v", a)
	}
	if b := got["b"]; b.DaprAPIToken != "mine" || b.AppAPIToken != "" {
		t.Fatalf("an app with its own token must keep it (for its sidecar too): %+v", b)
	}
	if a.HopToken == "" || got["b"].HopToken != a.HopToken || a.HopToken == a.AppAPIToken {
		t.Fatalf("the gateway hop token must be one secret shared by every app: %q %q", a.HopToken, got["b"].HopToken)
	}
	path := filepath.Join(dir, TokensDir, "a.env")
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", info, err)
	}
	body, _ := os.ReadFile(path)
	if !strings.Contains(string(body), "DAPR_API_TOKEN="+a.DaprAPIToken) {
		t.Fatalf("token file: %s", body)
	}
	again, _ := NewTokens(dir, apps)
	if again["a"] == a {
		t.Fatal("tokens must be fresh for every run")
	}
}
