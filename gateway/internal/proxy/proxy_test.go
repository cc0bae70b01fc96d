package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"pixshare/gateway/internal/proxy"
	"pixshare/gateway/internal/upstream"
	"pixshare/platform/config"
	"pixshare/platform/health"
	"pixshare/platform/httpserver"
	"pixshare/platform/reqinfo"
)

// seen is what an upstream received, echoed back as its JSON answer.
type seen struct {
	Service        string `json:"service"`
	Method         string `json:"method"`
	URI            string `json:"uri"`
	RequestID      string `json:"request_id"`
	TraceParent    string `json:"traceparent"`
	ForwardedFor   string `json:"x_forwarded_for"`
	ForwardedHost  string `json:"x_forwarded_host"`
	ForwardedProto string `json:"x_forwarded_proto"`
	BodyBytes      int64  `json:"body_bytes"`
	BodySHA256     string `json:"body_sha256"`
}

// service is a real HTTP server standing in for one Pixshare service: it
// answers every request with what it saw.
type service struct {
	*httptest.Server
	hits atomic.Int64
}

func newService(t *testing.T, name string) *service {
	t.Helper()
	s := &service{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, "body read failed", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(httpserver.HeaderRequestID, r.Header.Get(httpserver.HeaderRequestID))
		status := http.StatusOK
		if r.Method == http.MethodPost && r.URL.Path == "/v1/posts" {
			status = http.StatusAccepted
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(seen{
			Service: name, Method: r.Method, URI: r.URL.RequestURI(),
			RequestID: r.Header.Get(httpserver.HeaderRequestID), TraceParent: r.Header.Get("traceparent"),
			ForwardedFor: r.Header.Get("X-Forwarded-For"), ForwardedHost: r.Header.Get("X-Forwarded-Host"),
			ForwardedProto: r.Header.Get("X-Forwarded-Proto"),
			BodyBytes:      n, BodySHA256: fmt.Sprintf("%x", h.Sum(nil)),
		})
	}))
	t.Cleanup(s.Close)
	return s
}

// newGateway serves the gateway's router (the platform middleware and the
// routing table) configured from env.
func newGateway(t *testing.T, env map[string]string) *httptest.Server {
	t.Helper()
	cfg, err := config.LoadFrom[upstream.Config](env)
	if err != nil {
		t.Fatal(err)
	}
	hcfg, err := config.LoadFrom[httpserver.Config](env)
	if err != nil {
		t.Fatal(err)
	}
	logger := zaptest.NewLogger(t)
	transport := upstream.NewTransport(cfg)
	t.Cleanup(transport.CloseIdleConnections)
	rt := httpserver.NewRouter(hcfg, logger, health.NewRegistry(health.Params{}))
	proxy.Register(rt, cfg, transport, logger)
	srv := httptest.NewServer(rt.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
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

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func decodeSeen(t *testing.T, body []byte) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("upstream answer is not JSON: %v\n%s", err, body)
	}
	return s
}

func decodeProblem(t *testing.T, res *http.Response, body []byte, status int) httpserver.Problem {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", res.StatusCode, status, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != httpserver.ProblemContentType {
		t.Fatalf("Content-Type = %q, want %q; body %s", ct, httpserver.ProblemContentType, body)
	}
	var p httpserver.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem is not JSON: %v\n%s", err, body)
	}
	if p.Status != status || p.Type == "" || p.Title == "" {
		t.Fatalf("incomplete problem document: %+v", p)
	}
	if p.RequestID == "" || p.RequestID != res.Header.Get(httpserver.HeaderRequestID) {
		t.Fatalf("problem request_id %q does not match X-Request-Id %q", p.RequestID, res.Header.Get(httpserver.HeaderRequestID))
	}
	return p
}

func TestRouting(t *testing.T) {
	t.Parallel()
	user, post, comment := newService(t, "user"), newService(t, "post"), newService(t, "comment")
	gw := newGateway(t, map[string]string{
		"GATEWAY_USER_URL":    user.URL,
		"GATEWAY_POST_URL":    post.URL,
		"GATEWAY_COMMENT_URL": comment.URL,
		// GATEWAY_SEARCH_URL unset: search is not routed.
	})
	tests := []struct {
		method, uri, service string
	}{
		{http.MethodPost, "/v1/users/register", "user"},
		{http.MethodGet, "/v1/users", "user"},
		{http.MethodGet, "/v1/users/u1/followers?limit=5&cursor=abc", "user"},
		{http.MethodPut, "/v1/users/u1/follow", "user"},
		{http.MethodGet, "/v1/users/a%20b", "user"},
		{http.MethodGet, "/v1/posts/p1/comments", "comment"},
		{http.MethodGet, "/v1/posts/p1/comments?limit=2&cursor=c", "comment"},
		{http.MethodPost, "/v1/posts/p1/comments", "comment"},
		{http.MethodPatch, "/v1/posts/p1/comments/c1", "comment"},
		{http.MethodDelete, "/v1/posts/p1/comments/c1", "comment"},
		{http.MethodGet, "/v1/posts", "post"},
		{http.MethodGet, "/v1/posts?author=u1&limit=3", "post"},
		{http.MethodPost, "/v1/posts", "post"},
		{http.MethodGet, "/v1/posts/p1", "post"},
		{http.MethodPatch, "/v1/posts/p1", "post"},
		{http.MethodGet, "/v1/posts/p1/image?size=thumb", "post"},
		{http.MethodGet, "/v1/posts/p1/commentsx", "post"},
		{http.MethodGet, "/v1/feed?limit=10", "post"},
		{http.MethodGet, "/v1/timelines/public?limit=5", "post"},
		{http.MethodGet, "/v1/timelines/tag/sunset", "post"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.uri, func(t *testing.T) {
			res, body := do(t, newRequest(t, tt.method, gw.URL+tt.uri, nil))
			if res.StatusCode/100 != 2 {
				t.Fatalf("status = %d; body %s", res.StatusCode, body)
			}
			got := decodeSeen(t, body)
			if got.Service != tt.service || got.Method != tt.method || got.URI != tt.uri {
				t.Fatalf("reached %s %s %s, want %s %s %s", got.Service, got.Method, got.URI, tt.service, tt.method, tt.uri)
			}
		})
	}

	for _, uri := range []string{"/v1/search?tag=cats", "/v1/search/autocomplete?prefix=ca", "/v1/usersx", "/v1/feedx"} {
		t.Run("not routed "+uri, func(t *testing.T) {
			res, body := do(t, newRequest(t, http.MethodGet, gw.URL+uri, nil))
			p := decodeProblem(t, res, body, http.StatusNotFound)
			if !strings.Contains(p.Detail, "no route") {
				t.Fatalf("detail = %q, want it to say there is no route", p.Detail)
			}
		})
	}
	if n := user.hits.Load() + post.hits.Load() + comment.hits.Load(); n != int64(len(tests)) {
		t.Fatalf("upstreams saw %d requests, want %d", n, len(tests))
	}
}

func TestForwardedHeaders(t *testing.T) {
	t.Parallel()
	user := newService(t, "user")
	gw := newGateway(t, map[string]string{"GATEWAY_USER_URL": user.URL})
	req := newRequest(t, http.MethodGet, gw.URL+"/v1/users/u1", nil)
	// The gateway is the edge: what a client claims is not passed on.
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	req.Header.Set("X-Forwarded-Host", "evil.example")
	res, body := do(t, req)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d; body %s", res.StatusCode, body)
	}
	got := decodeSeen(t, body)
	gwHost := strings.TrimPrefix(gw.URL, "http://")
	if got.ForwardedFor != "127.0.0.1" || got.ForwardedHost != gwHost || got.ForwardedProto != "http" {
		t.Fatalf("X-Forwarded-For/Host/Proto = %q %q %q, want 127.0.0.1 %q http", got.ForwardedFor, got.ForwardedHost, got.ForwardedProto, gwHost)
	}
}

func TestRequestIDAndTrace(t *testing.T) {
	t.Parallel()
	user := newService(t, "user")
	gw := newGateway(t, map[string]string{"GATEWAY_USER_URL": user.URL})

	t.Run("client id reaches the upstream and comes back", func(t *testing.T) {
		req := newRequest(t, http.MethodGet, gw.URL+"/v1/users/me", nil)
		req.Header.Set(httpserver.HeaderRequestID, "client-req-42")
		res, body := do(t, req)
		got := decodeSeen(t, body)
		if got.RequestID != "client-req-42" {
			t.Fatalf("upstream saw request id %q", got.RequestID)
		}
		if ids := res.Header.Values(httpserver.HeaderRequestID); len(ids) != 1 || ids[0] != "client-req-42" {
			t.Fatalf("response X-Request-Id = %q, want exactly [client-req-42]", ids)
		}
	})
	for name, clientID := range map[string]string{"missing": "", "invalid": "not valid!<>"} {
		t.Run(name+" id is generated and reaches the upstream", func(t *testing.T) {
			req := newRequest(t, http.MethodGet, gw.URL+"/v1/users/me", nil)
			if clientID != "" {
				req.Header.Set(httpserver.HeaderRequestID, clientID)
			}
			res, body := do(t, req)
			got := decodeSeen(t, body)
			ids := res.Header.Values(httpserver.HeaderRequestID)
			if !reqinfo.ValidRequestID(got.RequestID) || got.RequestID == clientID {
				t.Fatalf("upstream saw request id %q", got.RequestID)
			}
			if len(ids) != 1 || ids[0] != got.RequestID {
				t.Fatalf("response X-Request-Id = %q, want exactly [%s]", ids, got.RequestID)
			}
		})
	}
	t.Run("traceparent reaches the upstream", func(t *testing.T) {
		const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		req := newRequest(t, http.MethodGet, gw.URL+"/v1/users/me", nil)
		req.Header.Set("traceparent", tp)
		_, body := do(t, req)
		if got := decodeSeen(t, body); got.TraceParent != tp {
			t.Fatalf("upstream saw traceparent %q, want %q", got.TraceParent, tp)
		}
	})
	t.Run("a trace is started when the client sends none", func(t *testing.T) {
		_, body := do(t, newRequest(t, http.MethodGet, gw.URL+"/v1/users/me", nil))
		if _, ok := reqinfo.ParseTraceParent(decodeSeen(t, body).TraceParent); !ok {
			t.Fatalf("upstream saw no valid traceparent: %s", body)
		}
	})
}

// onlyReader hides a reader's type so the HTTP client cannot learn the
// body's length and sends it chunked.
type onlyReader struct{ io.Reader }

func TestBodyLimits(t *testing.T) {
	t.Parallel()
	user, post, comment := newService(t, "user"), newService(t, "post"), newService(t, "comment")
	gw := newGateway(t, map[string]string{
		"GATEWAY_USER_URL":    user.URL,
		"GATEWAY_POST_URL":    post.URL,
		"GATEWAY_COMMENT_URL": comment.URL,
	})
	twoMiB := `{"username":"` + strings.Repeat("a", 2<<20) + `"}`

	t.Run("2 MiB JSON is refused before it reaches the upstream", func(t *testing.T) {
		req := newRequest(t, http.MethodPost, gw.URL+"/v1/users/register", strings.NewReader(twoMiB))
		req.Header.Set("Content-Type", "application/json")
		res, body := do(t, req)
		decodeProblem(t, res, body, http.StatusRequestEntityTooLarge)
		if n := user.hits.Load(); n != 0 {
			t.Fatalf("user service saw %d requests, want none", n)
		}
	})
	t.Run("2 MiB chunked JSON is refused", func(t *testing.T) {
		req := newRequest(t, http.MethodPost, gw.URL+"/v1/posts/p1/comments", onlyReader{strings.NewReader(twoMiB)})
		req.Header.Set("Content-Type", "application/json")
		if req.ContentLength != 0 && req.ContentLength != -1 {
			t.Fatalf("request would not be chunked (length %d)", req.ContentLength)
		}
		res, body := do(t, req)
		decodeProblem(t, res, body, http.StatusRequestEntityTooLarge)
	})
	t.Run("2 MiB JSON edit of a post is refused", func(t *testing.T) {
		req := newRequest(t, http.MethodPatch, gw.URL+"/v1/posts/p1", strings.NewReader(twoMiB))
		req.Header.Set("Content-Type", "application/json")
		res, body := do(t, req)
		decodeProblem(t, res, body, http.StatusRequestEntityTooLarge)
		if n := post.hits.Load(); n != 0 {
			t.Fatalf("post service saw %d requests, want none", n)
		}
	})
	t.Run("an upload-sized body passes to the post service intact", func(t *testing.T) {
		image := make([]byte, 20<<20)
		_, _ = rand.NewChaCha8([32]byte{1}).Read(image)
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		fw, err := mw.CreateFormFile("image", "photo.jpg")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(image)
		_ = mw.WriteField("caption", "a big one")
		_ = mw.Close()
		want := sha256.Sum256(form.Bytes())
		size := form.Len()

		req := newRequest(t, http.MethodPost, gw.URL+"/v1/posts", &form)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		res, body := do(t, req)
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("status = %d; body %s", res.StatusCode, body)
		}
		got := decodeSeen(t, body)
		if got.Service != "post" || got.BodyBytes != int64(size) || got.BodySHA256 != fmt.Sprintf("%x", want) {
			t.Fatalf("post service got %d bytes (sha %s), want %d (sha %x)", got.BodyBytes, got.BodySHA256, size, want)
		}
	})
}

func TestUploadLimitIsConfigurable(t *testing.T) {
	t.Parallel()
	post := newService(t, "post")
	gw := newGateway(t, map[string]string{"GATEWAY_POST_URL": post.URL, "GATEWAY_UPLOAD_MAX_BYTES": fmt.Sprint(3 << 20)})
	req := newRequest(t, http.MethodPost, gw.URL+"/v1/posts", bytes.NewReader(make([]byte, 4<<20)))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	res, body := do(t, req)
	decodeProblem(t, res, body, http.StatusRequestEntityTooLarge)
	if n := post.hits.Load(); n != 0 {
		t.Fatalf("post service saw %d requests, want none", n)
	}
	// Below the upload limit but above the default: accepted.
	req = newRequest(t, http.MethodPost, gw.URL+"/v1/posts", bytes.NewReader(make([]byte, 2<<20)))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	if res, body := do(t, req); res.StatusCode != http.StatusAccepted {
		t.Fatalf("status = %d; body %s", res.StatusCode, body)
	}
}

func TestUpstreamDown(t *testing.T) {
	t.Parallel()
	// A port that was free a moment ago and has nothing listening now.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	_ = ln.Close()

	gw := newGateway(t, map[string]string{"GATEWAY_USER_URL": down})
	res, body := do(t, newRequest(t, http.MethodGet, gw.URL+"/v1/users/me", nil))
	p := decodeProblem(t, res, body, http.StatusServiceUnavailable)
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	if strings.Contains(string(body), ln.Addr().String()) {
		t.Fatalf("problem leaks the upstream address: %s", body)
	}
	if !strings.Contains(p.Detail, "user") {
		t.Fatalf("detail %q does not name the service", p.Detail)
	}
}

func TestUpstreamTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answers only after the gateway gave up (and closed the connection).
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })

	gw := newGateway(t, map[string]string{"GATEWAY_POST_URL": slow.URL, "GATEWAY_UPSTREAM_TIMEOUT": "200ms"})
	res, body := do(t, newRequest(t, http.MethodGet, gw.URL+"/v1/feed", nil))
	p := decodeProblem(t, res, body, http.StatusGatewayTimeout)
	if !strings.Contains(p.Detail, "post") {
		t.Fatalf("detail %q does not name the service", p.Detail)
	}
}

func TestStreaming(t *testing.T) {
	t.Parallel()
	const first, total = 1 << 20, 32 << 20
	payload := make([]byte, total)
	_, _ = rand.NewChaCha8([32]byte{2}).Read(payload)
	gotFirst := make(chan struct{})
	post := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(payload[:first])
		http.NewResponseController(w).Flush()
		// The rest is written only once the client holds the first part,
		// which it can only if the gateway streams rather than buffers.
		select {
		case <-gotFirst:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write(payload[first:])
	}))
	t.Cleanup(post.Close)
	gw := newGateway(t, map[string]string{"GATEWAY_POST_URL": post.URL})

	// Bounds the test should the gateway buffer; not a timing assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, gw.URL+"/v1/posts/p1/image?size=original", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", res.StatusCode)
	}
	h := sha256.New()
	if _, err := io.CopyN(h, res.Body, first); err != nil {
		t.Fatalf("first part did not arrive while the upstream was still sending: %v", err)
	}
	close(gotFirst)
	n, err := io.Copy(h, res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(payload); n+first != total || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("received %d bytes, want %d intact", n+first, total)
	}
}

func TestCORSHeadersOnce(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	user := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		// The service's own CORS middleware answers too.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Expose-Headers", "X-Request-Id")
		w.Header().Add("Vary", "Origin")
		w.Header().Add("Vary", "Accept-Encoding")
		w.Header().Set(httpserver.HeaderRequestID, r.Header.Get(httpserver.HeaderRequestID))
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(user.Close)
	gw := newGateway(t, map[string]string{"GATEWAY_USER_URL": user.URL})
	const origin = "http://app.example"

	t.Run("preflight", func(t *testing.T) {
		req := newRequest(t, http.MethodOptions, gw.URL+"/v1/users/me", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", http.MethodPatch)
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		res, body := do(t, req)
		if res.StatusCode/100 != 2 {
			t.Fatalf("status = %d; body %s", res.StatusCode, body)
		}
		if v := res.Header.Values("Access-Control-Allow-Origin"); len(v) != 1 {
			t.Fatalf("Access-Control-Allow-Origin = %q, want exactly one", v)
		}
		if hits.Load() != 0 {
			t.Fatal("the preflight reached the upstream; the gateway answers it")
		}
	})
	t.Run("simple request", func(t *testing.T) {
		req := newRequest(t, http.MethodGet, gw.URL+"/v1/users/me", nil)
		req.Header.Set("Origin", origin)
		res, body := do(t, req)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status = %d; body %s", res.StatusCode, body)
		}
		if hits.Load() != 1 {
			t.Fatal("the request did not reach the upstream")
		}
		for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers", httpserver.HeaderRequestID} {
			if v := res.Header.Values(h); len(v) != 1 {
				t.Errorf("%s = %q, want exactly one", h, v)
			}
		}
		var origins, encodings int
		for _, v := range res.Header.Values("Vary") {
			for _, f := range strings.Split(v, ",") {
				switch strings.TrimSpace(f) {
				case "Origin":
					origins++
				case "Accept-Encoding":
					encodings++
				}
			}
		}
		if origins != 1 || encodings != 1 {
			t.Errorf("Vary = %q, want Origin and Accept-Encoding once each", res.Header.Values("Vary"))
		}
	})
}

// TestTruncatedBody: a client that declares more body than it sends and
// closes its side gets a 400 from the gateway (its own fault), not a 503.
func TestTruncatedBody(t *testing.T) {
	users := newService(t, "user")
	gw := newGateway(t, map[string]string{"GATEWAY_USER_URL": users.URL})
	conn, err := net.Dial("tcp", strings.TrimPrefix(gw.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"username":"x"}`
	fmt.Fprintf(conn, "POST /v1/users/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body)+500, body)
	_ = conn.(*net.TCPConn).CloseWrite()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || res.Header.Get("Content-Type") != httpserver.ProblemContentType {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("truncated body: %d %s", res.StatusCode, b)
	}
}
