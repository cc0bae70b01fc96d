// Package faults runs the services as separate processes beside their
// sidecars on one broker (the embedded JetStream, or a private instance of
// another profile's broker: TestOnEveryBroker), breaks parts of the system
// while a journey's writes run — killed processes, a restarted broker, an
// unavailable cache, database or user service, poison images, lost
// messages — and then checks the invariants that must hold afterwards.
package faults

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pixshare/platform/apitest"
	"pixshare/platform/daprtest"
)

// stack is the whole system in processes a test can kill and restart.
type stack struct {
	t       *testing.T
	env     *daprtest.Env
	broker  brokerRun
	apps    map[string]*daprtest.App
	gateway string
	photos  string
}

// options change the stack for a scenario.
type options struct {
	// env is added to every app's environment, per app id ("*" for all).
	env map[string]map[string]string
	// cache replaces the in-memory cache component.
	cache string
	// without leaves apps out (started later by the test).
	without map[string]bool
	// broker is the pub/sub broker and its component (default: the
	// embedded JetStream).
	broker brokerRun
}

var order = []struct{ id, pkg string }{
	{"user", "pixshare/user/cmd/user"},
	{"post", "pixshare/post/cmd/post"},
	{"comment", "pixshare/comment/cmd/comment"},
	{"search", "pixshare/search/cmd/search"},
	{"indexer", "pixshare/search/cmd/indexer"},
	{"thumbnailer", "pixshare/workers/cmd/thumbnailer"},
}

func start(t *testing.T, opts options) *stack {
	t.Helper()
	if testing.Short() {
		t.Skip("fault scenarios skipped in -short mode")
	}
	broker := opts.broker
	if broker == nil {
		broker = localProfile().open(t, t.Name())
	}
	cache := opts.cache
	if cache == "" {
		cache = daprtest.SharedCache
	}
	env := daprtest.NewEnv(t, append(broker.components(t), cache, daprtest.LocalImages, daprtest.LocalSecrets)...)
	env.WriteSecrets(t, `{"jwt-signing-key": "a-fault-suite-signing-key-that-is-long-enough-0123"}`)
	root, err := daprtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{t: t, env: env, broker: broker, apps: map[string]*daprtest.App{}, photos: filepath.Join(root, "testdata", "photos")}
	for _, a := range order {
		if !opts.without[a.id] {
			s.startApp(a.id, opts.env)
		}
	}
	gwEnv := map[string]string{
		"GATEWAY_USER_URL":    s.apps["user"].BaseURL,
		"GATEWAY_POST_URL":    s.apps["post"].BaseURL,
		"GATEWAY_COMMENT_URL": s.apps["comment"].BaseURL,
		"GATEWAY_SEARCH_URL":  s.apps["search"].BaseURL,
	}
	s.gateway = env.StartApp(t, "gateway", "pixshare/gateway/cmd/gateway", gwEnv).BaseURL
	return s
}

// startApp starts one of the stack's apps (again, when it was left out).
func (s *stack) startApp(id string, extra map[string]map[string]string) *daprtest.App {
	s.t.Helper()
	e := map[string]string{
		// The defaults users run, caches and limits on. The scenarios upload
		// about a hundred pictures as a handful of users from one address,
		// so the upload limits are raised (documented settings, never
		// turned off); the reconciler runs often so a lost message is
		// re-sent within the test, and hashing is cheap.
		"RATE_LIMIT_UPLOAD_ACCOUNT": "1000/1m", "RATE_LIMIT_UPLOAD_CLIENT": "1000/1m",
		"RATE_LIMIT_REGISTER": "100/1m", "RATE_LIMIT_LOGIN_CLIENT": "200/1m",
		"ARGON2_MEMORY_KIB": "8192", "ARGON2_ITERATIONS": "1",
		"RECONCILE_INTERVAL": "1s", "RECONCILE_AFTER": "5s", "OUTBOX_MAX_BACKOFF": "1s", "LOG_LEVEL": "info",
	}
	if id == "search" || id == "indexer" {
		e["DATABASE_URL"] = "sqlite://" + filepath.Join(s.env.Dir, "search.db")
	}
	for _, scope := range []string{"*", id} {
		for k, v := range extra[scope] {
			e[k] = v
		}
	}
	var pkg string
	for _, a := range order {
		if a.id == id {
			pkg = a.pkg
		}
	}
	app := s.env.StartApp(s.t, id, pkg, e)
	s.apps[id] = app
	return app
}

// client returns a new API client of the gateway.
func (s *stack) client() *apitest.Client { return apitest.New(s.t, s.gateway) }

func (s *stack) photo(name string) []byte {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.photos, name))
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// upload posts an image with an idempotency key and returns the post id;
// it retries while the system answers 5xx, as a client would, reusing the
// key so a retry never makes a second post.
func (s *stack) upload(c *apitest.Client, image []byte, key, tags string) string {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("tags", tags)
		fw, _ := mw.CreateFormFile("image", "photo")
		_, _ = fw.Write(image)
		_ = mw.Close()
		req, _ := http.NewRequest("POST", s.gateway+"/v1/posts", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+c.Token)
		req.Header.Set("Idempotency-Key", key)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			var body bytes.Buffer
			_, _ = body.ReadFrom(res.Body)
			res.Body.Close()
			if res.StatusCode == 202 {
				return apitest.Response{Body: body.Bytes()}.JSON(s.t)["id"].(string)
			}
			if res.StatusCode < 500 {
				s.t.Fatalf("upload: %d %s", res.StatusCode, body.String())
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("upload kept failing: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
