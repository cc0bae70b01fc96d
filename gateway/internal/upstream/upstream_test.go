package upstream_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"pixshare/gateway/internal/upstream"
	"pixshare/platform/config"
	"pixshare/platform/health"
	"pixshare/platform/httpserver"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom[upstream.Config](map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.UserURL != "http://127.0.0.1:8081" || cfg.PostURL != "" || cfg.CommentURL != "" || cfg.SearchURL != "" {
		t.Fatalf("default URLs = %+v", cfg)
	}
	if want := int64(21<<20 + 64<<10); cfg.UploadMaxBytes != want || cfg.UploadMaxBytes <= 20<<20 {
		t.Fatalf("upload limit = %d, want %d (above the post service's 20 MiB)", cfg.UploadMaxBytes, want)
	}
	if cfg.UpstreamTimeout != 60*time.Second {
		t.Fatalf("upstream timeout = %s", cfg.UpstreamTimeout)
	}
	ups := cfg.Upstreams()
	if len(ups) != 1 || ups[0].Name != upstream.User || ups[0].URL.String() != "http://127.0.0.1:8081" {
		t.Fatalf("routed by default: %+v", ups)
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, value, want string
	}{
		{"GATEWAY_POST_URL", "127.0.0.1:8082", "GATEWAY_POST_URL"},
		{"GATEWAY_POST_URL", "ftp://127.0.0.1:8082", "http://"},
		{"GATEWAY_COMMENT_URL", "http://", "no host"},
		{"GATEWAY_SEARCH_URL", "http://127.0.0.1:8084?x=1", "query"},
		{"GATEWAY_USER_URL", "http://u:p@127.0.0.1:8081", "credentials"},
		{"GATEWAY_USER_URL", "http://127.0.0.1:99999", "port"},
		{"GATEWAY_PUBLIC_URL", "pixshare.example", "GATEWAY_PUBLIC_URL"},
		{"GATEWAY_UPLOAD_MAX_BYTES", "0", "GATEWAY_UPLOAD_MAX_BYTES"},
		{"GATEWAY_UPLOAD_MAX_BYTES", "lots", "GATEWAY_UPLOAD_MAX_BYTES"},
		{"GATEWAY_UPSTREAM_TIMEOUT", "-1s", "GATEWAY_UPSTREAM_TIMEOUT"},
		{"GATEWAY_READY_TIMEOUT", "soon", "GATEWAY_READY_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			_, err := config.LoadFrom[upstream.Config](map[string]string{tt.key: tt.value})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	cfg, err := config.LoadFrom[upstream.Config](map[string]string{"GATEWAY_POST_URL": "https://post.internal:8443/base/"})
	if err != nil {
		t.Fatal(err)
	}
	if ups := cfg.Upstreams(); len(ups) != 2 || ups[1].URL.String() != "https://post.internal:8443/base" {
		t.Fatalf("upstreams = %+v", ups)
	}
}

func TestOwner(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/v1/users":                         upstream.User,
		"/v1/users/register":                upstream.User,
		"/v1/users/{id}/followers":          upstream.User,
		"/v1/posts":                         upstream.Post,
		"/v1/posts/{id}":                    upstream.Post,
		"/v1/posts/{id}/image":              upstream.Post,
		"/v1/feed":                          upstream.Post,
		"/v1/posts/{id}/comments":           upstream.Comment,
		"/v1/posts/{post_id}/comments/{id}": upstream.Comment,
		"/v1/search":                        upstream.Search,
		"/v1/search/autocomplete":           upstream.Search,
		"/v1/usersx":                        "",
		"/v1/feed/x":                        "",
		"/healthz":                          "",
	} {
		if got := upstream.Owner(path); got != want {
			t.Errorf("Owner(%q) = %q, want %q", path, got, want)
		}
	}
}

// readyService answers /readyz with whatever status it is set to.
func readyService(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var status atomic.Int64
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	t.Cleanup(srv.Close)
	return srv, &status
}

func TestReadiness(t *testing.T) {
	t.Parallel()
	user, userStatus := readyService(t)
	post, postStatus := readyService(t)
	cfg, err := config.LoadFrom[upstream.Config](map[string]string{"GATEWAY_USER_URL": user.URL, "GATEWAY_POST_URL": post.URL})
	if err != nil {
		t.Fatal(err)
	}
	hcfg, err := config.LoadFrom[httpserver.Config](map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	transport := upstream.NewTransport(cfg)
	t.Cleanup(transport.CloseIdleConnections)
	checks := upstream.ReadinessChecks(cfg, transport)
	rt := httpserver.NewRouter(hcfg, zaptest.NewLogger(t), health.NewRegistry(health.Params{Checks: checks}))
	gw := httptest.NewServer(rt.Handler())
	t.Cleanup(gw.Close)

	readyz := func() (int, health.Result) {
		t.Helper()
		res, err := http.Get(gw.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out health.Result
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, out
	}

	postStatus.Store(http.StatusServiceUnavailable)
	status, res := readyz()
	if status != http.StatusServiceUnavailable || res.Checks["post"] == "ok" || res.Checks["user"] != "ok" {
		t.Fatalf("with post not ready: %d %+v", status, res)
	}

	postStatus.Store(http.StatusOK)
	if status, res := readyz(); status != http.StatusOK || len(res.Checks) != 2 {
		t.Fatalf("with every service ready: %d %+v", status, res)
	}

	user.Close()
	userStatus.Store(http.StatusOK)
	status, res = readyz()
	if status != http.StatusServiceUnavailable || !strings.Contains(res.Checks["user"], "unreachable") {
		t.Fatalf("with user down: %d %+v", status, res)
	}
}
