package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"pixshare/contracts/events"
)

// TestRealDaprdWithLocalProfile runs a fake "user" app beside a real sidecar
// loaded with the repository's components/local: the embedded broker and its
// stream must satisfy the JetStream pub/sub component, and the generated
// secrets file the local-file secret store. It needs bin/daprd and the
// broker's fixed port 4223 (the components name it), so it skips without them.
func TestRealDaprdWithLocalProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real sidecar; skipped with -short")
	}
	daprdPath, _ := filepath.Abs(filepath.Join("..", "..", "bin", "daprd"))
	if p := os.Getenv("PIXSHARE_DAPRD"); p != "" {
		daprdPath = p
	}
	if _, err := os.Stat(daprdPath); err != nil {
		t.Skipf("no daprd at %s (build it with `make daprd`, or set PIXSHARE_DAPRD)", daprdPath)
	}
	components, _ := filepath.Abs(filepath.Join("..", "..", "components", "local"))
	if _, err := os.Stat(filepath.Join(components, "pubsub.yaml")); err != nil {
		t.Skipf("no local profile at %s", components)
	}
	if ln, err := net.Listen("tcp", ":4223"); err != nil {
		t.Skip("port 4223 is in use (a running stack?)")
	} else {
		ln.Close()
	}

	f := newFixture(t, fakeAppSpec{id: "user", httpAddr: true, noAppPort: true})
	f.opts.daprd = daprdPath
	f.opts.natsPort = 4223
	f.opts.resources = []string{components}
	f.opts.config = filepath.Join(components, "config.yaml")
	t.Setenv("PIXSHARE_DAPRD", "")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr, wait := f.start(ctx)
	waitFor(t, stdout, regexp.MustCompile(`(?m)^ready: .*$`))
	sidecar := "http://127.0.0.1:" + strconv.Itoa(f.apps[0].ports[1])

	token := sidecarToken(t, f.dir, "user")
	// The sidecar refuses callers without the app's token.
	if resp, err := http.Get(sidecar + "/v1.0/metadata"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("metadata without the API token: %v %v", resp.StatusCode, err)
	}
	var meta struct {
		Components []struct{ Name, Type string } `json:"components"`
	}
	getJSON(t, sidecar+"/v1.0/metadata", token, &meta)
	loaded := map[string]string{}
	for _, c := range meta.Components {
		loaded[c.Name] = c.Type
	}
	for name, typ := range map[string]string{"pubsub": "pubsub.jetstream", "secrets": "secretstores.local.file", "cache": "state.sqlite"} {
		if loaded[name] != typ {
			t.Errorf("component %s: loaded as %q, want %q (all: %v)", name, loaded[name], typ, loaded)
		}
	}
	// The generated secrets file is what the secret store serves.
	var secret map[string]string
	getJSON(t, sidecar+"/v1.0/secrets/secrets/jwt-signing-key", token, &secret)
	if len(secret["jwt-signing-key"]) != 64 { // base64 of 48 bytes
		t.Errorf("jwt-signing-key from the secret store has length %d", len(secret["jwt-signing-key"]))
	}
	// Publishing only succeeds if the stream holds the topic's subject,
	// and only for the topics the app owns (publishingScopes): user may
	// publish its own events and nothing else.
	allowed := map[string]bool{}
	for _, topic := range events.Publishes("user") {
		allowed[topic] = true
	}
	for _, topic := range f.opts.topics {
		req, _ := http.NewRequest("POST", sidecar+"/v1.0/publish/pubsub/"+topic, strings.NewReader(`{"probe":true}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("dapr-api-token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusForbidden
		if allowed[topic] {
			want = http.StatusNoContent
		}
		if resp.StatusCode != want {
			t.Errorf("publish to %s as user: %s, want %d", topic, resp.Status, want)
		}
	}
	cancel()
	code := wait()
	out := stdout.String()
	t.Log("launcher output:\n" + out)
	if code != 0 {
		t.Errorf("exit code %d; stderr:\n%s", code, stderr.String())
	}
	// The sidecar must have loaded every component scoped to user.
	if strings.Contains(out, "level=error") || strings.Contains(out, "level=fatal") {
		t.Errorf("sidecar reported errors")
	}
}

// sidecarToken reads the API token the launcher generated for app.
func sidecarToken(t *testing.T, runDir, app string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(runDir, ".data", "tokens", app+".env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "DAPR_API_TOKEN="); ok {
			return v
		}
	}
	t.Fatalf("no DAPR_API_TOKEN for %s", app)
	return ""
}

func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("dapr-api-token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
