package preflight

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"pixshare/tools/stack/internal/runfile"
)

// Tokens authenticate an app and its sidecar to each other: the app sends
// DaprAPIToken on every call to its sidecar, and the sidecar sends
// AppAPIToken on every call to the app, which refuses calls without it.
//
// HopToken is one secret for the whole run: the gateway sends it with the
// client address it vouches for, and the services believe the address only
// with it (GATEWAY_HOP_TOKEN).
type Tokens struct {
	DaprAPIToken string
	AppAPIToken  string
	HopToken     string
}

// Env returns the variables carrying the tokens, for both processes.
func (t Tokens) Env() []string {
	return []string{"DAPR_API_TOKEN=" + t.DaprAPIToken, "APP_API_TOKEN=" + t.AppAPIToken, "GATEWAY_HOP_TOKEN=" + t.HopToken}
}

// TokensDir holds one <app>.env file per app with its tokens, so commands
// run beside the stack (make reindex) can talk to a sidecar.
const TokensDir = "tokens"

// NewTokens generates fresh tokens for every app of this run (an app whose
// run-file env sets its own keeps them, and its sidecar gets the same), and
// writes them under dataDir/tokens (mode 0600).
func NewTokens(dataDir string, apps []runfile.App) (map[string]Tokens, error) {
	dir := filepath.Join(dataDir, TokensDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	out := make(map[string]Tokens, len(apps))
	hop := os.Getenv("GATEWAY_HOP_TOKEN")
	if hop == "" {
		hop = randomToken()
	}
	for _, app := range apps {
		t := Tokens{DaprAPIToken: app.Env["DAPR_API_TOKEN"], AppAPIToken: app.Env["APP_API_TOKEN"]}
		if t.DaprAPIToken == "" && t.AppAPIToken == "" {
			t = Tokens{DaprAPIToken: randomToken(), AppAPIToken: randomToken()}
		}
		t.HopToken = hop
		if v := app.Env["GATEWAY_HOP_TOKEN"]; v != "" {
			t.HopToken = v
		}
		body := fmt.Sprintf("DAPR_API_TOKEN=%s\nAPP_API_TOKEN=%s\n", t.DaprAPIToken, t.AppAPIToken)
		if err := os.WriteFile(filepath.Join(dir, app.AppID+".env"), []byte(body), 0o600); err != nil {
			return nil, fmt.Errorf("write tokens of %s: %w", app.AppID, err)
		}
		out[app.AppID] = t
	}
	return out, nil
}

func randomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
