package webui

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"go.uber.org/zap"

	"pixshare/platform/health"
	"pixshare/platform/httpserver"
)

const indexHTML = `<!doctype html><html><head><script type="module" crossorigin src="/assets/index-abc123.js"></script>` +
	`<link rel="stylesheet" crossorigin href="/assets/index-def456.css"></head><body><div id="app"></div></body></html>`

// newServer serves a small bundle through the platform router, the way
// the gateway does (its own routes first, the client last).
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	bundle := fstest.MapFS{
		"index.html":              {Data: []byte(indexHTML)},
		"favicon.svg":             {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		"assets/index-abc123.js":  {Data: []byte(strings.Repeat("console.log('pixshare');\n", 200))},
		"assets/index-def456.css": {Data: []byte("body{margin:0}")},
	}
	h, err := New(bundle, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	rt := httpserver.NewRouter(httpserver.Config{MaxBodyBytes: 1 << 20, CORSOrigins: []string{"*"}}, zap.NewNop(), health.NewRegistry(health.Params{}))
	rt.Mux.Handle("/openapi.yaml", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "openapi: 3.0.3") }))
	h.Route(rt.Mux)
	srv := httptest.NewServer(rt.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// The transport would ask for gzip and undo it by itself.
	req.Header.Set("Accept-Encoding", req.Header.Get("Accept-Encoding"))
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func assertSecurityHeaders(t *testing.T, res *http.Response) {
	t.Helper()
	h := res.Header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for _, banned := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(csp, banned) {
			t.Errorf("CSP %q allows %q", csp, banned)
		}
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("X-Frame-Options") != "DENY" {
		t.Errorf("security headers: nosniff=%q referrer=%q frame=%q", h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"), h.Get("X-Frame-Options"))
	}
}

func TestClientRoutesAnswerIndex(t *testing.T) {
	srv := newServer(t)
	for _, p := range []string{"/", "/index.html", "/signin", "/p/abc", "/u/123?tab=posts", "/tags/sunset", "/settings", "/no/such/screen", "/v1x"} {
		t.Run(p, func(t *testing.T) {
			res, body := get(t, srv.URL+p)
			if res.StatusCode != http.StatusOK || string(body) != indexHTML {
				t.Fatalf("status %d, body %.80q", res.StatusCode, body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", cc)
			}
			assertSecurityHeaders(t, res)
		})
	}
}

func TestAssets(t *testing.T) {
	srv := newServer(t)
	res, body := get(t, srv.URL+"/assets/index-abc123.js")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "console.log") {
		t.Fatalf("status %d, body %.40q", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control = %q", cc)
	}
	assertSecurityHeaders(t, res)

	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	res, _ = get(t, srv.URL+"/assets/index-abc123.js", "If-None-Match", etag)
	if res.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: status %d, want 304", res.StatusCode)
	}

	res, body = get(t, srv.URL+"/assets/index-abc123.js", "Accept-Encoding", "br, gzip")
	if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Encoding") {
		t.Fatalf("gzip: Content-Encoding %q, Vary %q", res.Header.Get("Content-Encoding"), res.Header.Values("Vary"))
	}
	zr, err := gzip.NewReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !strings.HasPrefix(string(plain), "console.log") {
		t.Fatal("the gzip body does not decode to the asset")
	}
	res, _ = get(t, srv.URL+"/assets/index-abc123.js", "Accept-Encoding", "gzip;q=0")
	if res.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip sent to a client that refused it")
	}

	res, _ = get(t, srv.URL+"/favicon.svg")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/svg+xml" || res.Header.Get("Cache-Control") != "public, max-age=86400" {
		t.Fatalf("favicon: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
	}
}

func TestMissingAssetIsAProblem(t *testing.T) {
	srv := newServer(t)
	res, body := get(t, srv.URL+"/assets/index-old.js")
	if res.StatusCode != http.StatusNotFound || res.Header.Get("Content-Type") != httpserver.ProblemContentType {
		t.Fatalf("status %d, type %q: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}

// The gateway's own paths never fall through to the client.
func TestGatewayPathsAreNotTheClients(t *testing.T) {
	srv := newServer(t)
	for _, p := range []string{"/v1", "/v1/", "/v1/unrouted", "/v1/timelinesx", "/docs/nothing"} {
		res, body := get(t, srv.URL+p)
		if res.StatusCode != http.StatusNotFound || res.Header.Get("Content-Type") != httpserver.ProblemContentType {
			t.Errorf("%s: status %d, type %q: %.80s", p, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
	res, body := get(t, srv.URL+"/healthz")
	var ok map[string]string
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &ok) != nil || ok["status"] != "ok" {
		t.Fatalf("/healthz: %d %s", res.StatusCode, body)
	}
	if res, body := get(t, srv.URL+"/openapi.yaml"); string(body) != "openapi: 3.0.3" {
		t.Fatalf("/openapi.yaml: %d %s", res.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/settings", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /settings: status %d, want 405", res.StatusCode)
	}
}

func TestIsClientPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/p/1": true, "/v1x": true, "/docsy": true, "/healthz/x": true,
		"/v1": false, "/v1/users": false, "/docs": false, "/docs/x": false, "/openapi.yaml": false, "/healthz": false, "/readyz": false,
	} {
		if got := IsClientPath(p); got != want {
			t.Errorf("IsClientPath(%q) = %v, want %v", p, got, want)
		}
	}
}

var (
	scriptTag   = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	styleTag    = regexp.MustCompile(`(?is)<style\b`)
	styleAttr   = regexp.MustCompile(`(?i)\sstyle\s*=`)
	handlerAttr = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	assetRef    = regexp.MustCompile(`(?:src|href)="/([^"]+)"`)
)

// The committed bundle is complete and keeps to the CSP: every file
// index.html names is embedded, and it has no inline script, style or
// event handler (the browser would refuse them).
func TestEmbeddedBundle(t *testing.T) {
	h, err := Embedded(zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	index := string(h.index.data)
	for _, m := range scriptTag.FindAllStringSubmatch(index, -1) {
		if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
			t.Errorf("inline script in index.html: %.80s", m[0])
		}
	}
	if styleTag.MatchString(index) || styleAttr.MatchString(index) || handlerAttr.MatchString(index) {
		t.Error("index.html has an inline style or event handler")
	}
	refs := assetRef.FindAllStringSubmatch(index, -1)
	if len(refs) < 2 {
		t.Fatalf("index.html names %d files, want the script and the stylesheet", len(refs))
	}
	for _, m := range refs {
		if !IsClientPath("/" + m[1]) {
			continue // a link to the gateway's own pages (/docs)
		}
		if _, ok := h.files[m[1]]; !ok {
			t.Errorf("index.html names /%s, which is not in the bundle", m[1])
		}
	}
	for name, f := range h.files {
		if strings.HasSuffix(name, ".js") && strings.Contains(string(f.data), "/work/") {
			t.Errorf("%s holds a path of the machine that built it", name)
		}
	}
}
