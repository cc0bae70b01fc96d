package httpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"pixshare/platform/apperror"
	"pixshare/platform/health"
	"pixshare/platform/logging"
)

func newTestRouter(t *testing.T, checks ...health.Check) (*Router, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	logger, err := logging.NewWithWriter("test", logging.Config{Level: "info"}, &logs)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Addr: "127.0.0.1:0", MaxBodyBytes: 64, CORSOrigins: []string{"*"}}
	rt := NewRouter(cfg, logger, health.NewRegistry(health.Params{Checks: checks}))
	return rt, &logs
}

func decodeProblem(t *testing.T, res *http.Response) Problem {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); ct != ProblemContentType {
		t.Fatalf("content type = %q, want %q", ct, ProblemContentType)
	}
	var p Problem
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.Status != res.StatusCode || p.Type == "" || p.Title == "" || p.RequestID == "" {
		t.Fatalf("incomplete problem document: %+v", p)
	}
	return p
}

func do(h http.Handler, req *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestErrorsBecomeProblems(t *testing.T) {
	t.Parallel()
	rt, logs := newTestRouter(t)
	rt.Mux.HandleFunc("/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, zap.NewNop(), apperror.NotFoundf("thing not found"))
	}).Methods(http.MethodGet)
	rt.Mux.HandleFunc("/boom", func(http.ResponseWriter, *http.Request) { panic("kaboom") })
	rt.Mux.HandleFunc("/secret", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, zap.NewNop(), errors.New("pq: password authentication failed for user admin"))
	})
	rt.Mux.HandleFunc("/slow-down", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, zap.NewNop(), apperror.New(apperror.RateLimited, "slow down").WithRetryAfter(1500e6))
	})
	h := rt.Handler()

	tests := []struct {
		method, path string
		status       int
		detail       string
	}{
		{http.MethodGet, "/things/1", 404, "thing not found"},
		{http.MethodGet, "/nowhere", 404, "no route for /nowhere"},
		{http.MethodDelete, "/things/1", 405, ""},
		{http.MethodGet, "/boom", 500, "internal error"},
		{http.MethodGet, "/secret", 500, "internal error"},
		{http.MethodGet, "/slow-down", 429, "slow down"},
	}
	for _, tt := range tests {
		res := do(h, httptest.NewRequest(tt.method, tt.path, nil))
		if res.StatusCode != tt.status {
			t.Fatalf("%s %s: status %d, want %d", tt.method, tt.path, res.StatusCode, tt.status)
		}
		p := decodeProblem(t, res)
		if tt.detail != "" && p.Detail != tt.detail {
			t.Errorf("%s %s: detail %q, want %q", tt.method, tt.path, p.Detail, tt.detail)
		}
		if strings.Contains(p.Detail, "password") {
			t.Errorf("internal error text leaked: %q", p.Detail)
		}
	}
	res := do(h, httptest.NewRequest(http.MethodGet, "/slow-down", nil))
	if got := res.Header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2 (rounded up)", got)
	}
	if !strings.Contains(logs.String(), `"msg":"panic serving request"`) {
		t.Errorf("the panic was not logged: %s", logs.String())
	}
}

func TestRequestIDAndAccessLog(t *testing.T) {
	t.Parallel()
	rt, logs := newTestRouter(t)
	rt.Mux.HandleFunc("/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(WithUserID(r.Context(), zap.NewNop(), "u-42"))
		if r.URL.Query().Get("say") != "" {
			logging.FromContext(r.Context(), zap.NewNop()).Info("handler says")
		}
		WriteJSON(w, http.StatusOK, map[string]string{"request_id": RequestID(r.Context())})
	})
	h := rt.Handler()

	req := httptest.NewRequest(http.MethodGet, "/users/7", nil)
	req.Header.Set(HeaderRequestID, "client-id-1")
	res := do(h, req)
	if res.Header.Get(HeaderRequestID) != "client-id-1" {
		t.Fatalf("a valid client request id must be kept, got %q", res.Header.Get(HeaderRequestID))
	}
	req = httptest.NewRequest(http.MethodGet, "/users/7", nil)
	req.Header.Set(HeaderRequestID, "bad id\nwith newline")
	res = do(h, req)
	if got := res.Header.Get(HeaderRequestID); got == "" || strings.Contains(got, " ") {
		t.Fatalf("an invalid client request id must be replaced, got %q", got)
	}

	var line map[string]any
	first := strings.SplitN(logs.String(), "\n", 2)[0]
	if err := json.Unmarshal([]byte(first), &line); err != nil {
		t.Fatalf("access log is not JSON: %q", first)
	}
	want := map[string]any{"msg": "request", "method": "GET", "route": "/users/{id}", "status": float64(200),
		"request_id": "client-id-1", "user_id": "u-42", "service": "test"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("access log %s = %v, want %v", k, line[k], v)
		}
	}
	for _, k := range []string{"duration_ms", "trace_id", "ts", "level"} {
		if _, ok := line[k]; !ok {
			t.Errorf("access log lacks %s", k)
		}
	}

	// What a handler logs carries the request's fields too (the request
	// logger is made lazily, when something logs).
	req = httptest.NewRequest(http.MethodGet, "/users/7?say=1", nil)
	req.Header.Set(HeaderRequestID, "client-id-2")
	do(h, req)
	var said map[string]any
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"handler says"`) {
			if err := json.Unmarshal([]byte(l), &said); err != nil {
				t.Fatalf("handler's line is not JSON: %q", l)
			}
		}
	}
	if said["request_id"] != "client-id-2" || said["user_id"] != "u-42" || said["trace_id"] == nil || said["service"] != "test" {
		t.Errorf("handler's line lacks the request's fields: %v", said)
	}
}

// A body copied with io.Copy goes through the server's ReadFrom (which
// splices from sockets and sends files in the kernel) and is still
// counted and logged.
func TestCopiedBodiesAreLogged(t *testing.T) {
	t.Parallel()
	rt, logs := newTestRouter(t)
	body := strings.Repeat("0123456789", 10_000)
	rt.Mux.HandleFunc("/image", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("the handler's writer hides the server's ReadFrom")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		// LimitReader: no WriteTo, so io.Copy asks the writer to ReadFrom.
		_, _ = io.Copy(w, io.LimitReader(strings.NewReader(body), int64(len(body))))
	})
	// The access line is written once the router's handler returns,
	// which may be after the client has read the answer.
	served := make(chan struct{})
	h := rt.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(served)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + "/image")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil || string(got) != body || res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, %d bytes, %v", res.StatusCode, len(got), err)
	}
	<-served
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(logs.String(), "\n", 2)[0]), &line); err != nil {
		t.Fatalf("access log: %q", logs.String())
	}
	if line["status"] != float64(200) || line["bytes"] != float64(len(body)) {
		t.Fatalf("access log status %v, bytes %v; want 200, %d", line["status"], line["bytes"], len(body))
	}
}

func TestBodyLimits(t *testing.T) {
	t.Parallel()
	rt, _ := newTestRouter(t)
	var got map[string]string
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := DecodeJSON(r, &got); err != nil {
			WriteError(w, r, zap.NewNop(), err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	rt.Mux.Handle("/small", handler).Methods(http.MethodPost)
	rt.HandleWithLimit("/big", 1024, handler).Methods(http.MethodPost)
	h := rt.Handler()

	body := `{"a":"` + strings.Repeat("x", 200) + `"}`
	post := func(path string, body io.Reader, chunked bool) *http.Response {
		req := httptest.NewRequest(http.MethodPost, path, body)
		if chunked {
			req.ContentLength = -1
		}
		req.Header.Set("Content-Type", "application/json")
		return do(h, req)
	}
	if res := post("/small", strings.NewReader(body), false); res.StatusCode != 413 {
		t.Fatalf("declared length over limit: %d, want 413", res.StatusCode)
	}
	if res := post("/small", strings.NewReader(body), true); res.StatusCode != 413 {
		t.Fatalf("undeclared length over limit: %d, want 413", res.StatusCode)
	}
	if res := post("/big", strings.NewReader(body), false); res.StatusCode != 204 {
		t.Fatalf("route with a larger limit: %d, want 204", res.StatusCode)
	}
}

// TestOversizedBodyIsAnswered is a client that is slow to send a body
// over the limit: it must still be able to finish writing after the 413
// came back. Without the lingering close, the server closes the socket
// with the body unread (net/http waits only half a second), and the
// client's next write meets a reset: clients then report "broken pipe"
// instead of the answer. Both ways a body is refused are covered: by its
// Content-Length before the handler runs, and, sent chunked, as the
// handler reads past the limit.
func TestOversizedBodyIsAnswered(t *testing.T) {
	t.Parallel()
	rt, _ := newTestRouter(t)
	rt.Mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := DecodeJSON(r, &v); err != nil {
			WriteError(w, r, zap.NewNop(), err)
			return
		}
		t.Error("an oversized body was accepted")
	}).Methods(http.MethodPost)
	srv := httptest.NewServer(rt.Handler())
	defer srv.Close()

	const size = 8 << 20
	chunk := bytes.Repeat([]byte("A"), 64<<10)
	for _, chunked := range []bool{false, true} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		framing := fmt.Sprintf("Content-Length: %d", size)
		send := func() error { _, err := conn.Write(chunk); return err }
		if chunked {
			framing = "Transfer-Encoding: chunked"
			send = func() error { _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk); return err }
		}
		fmt.Fprintf(conn, "POST /small HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s\r\n\r\n", framing)
		if err := send(); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusRequestEntityTooLarge || !res.Close {
			t.Fatalf("chunked %v: %d (close %v), want 413 and Connection: close", chunked, res.StatusCode, res.Close)
		}
		// A slow client: the rest of the body comes later than net/http's
		// own grace period, and must still be read.
		time.Sleep(time.Second)
		for sent := len(chunk); sent < size; sent += len(chunk) {
			if err := send(); err != nil {
				t.Fatalf("chunked %v: after %d of %d bytes: %v", chunked, sent, size, err)
			}
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	type edit struct {
		Caption *string `json:"caption"`
	}
	tests := []struct {
		name, body, ctype string
		status            int
	}{
		{"ok", `{"caption":"hi"}`, "application/json", 0},
		{"unknown field refused", `{"caption":"hi","author_id":"x"}`, "application/json", 400},
		{"wrong type", `{"caption":5}`, "application/json", 400},
		{"malformed", `{"caption":`, "application/json", 400},
		{"empty", ``, "application/json", 400},
		{"two objects", `{} {}`, "application/json", 400},
		{"not json", `caption=hi`, "application/x-www-form-urlencoded", 415},
		{"invalid utf-8", "{\"caption\":\"bad \xff\xfe\"}", "application/json", 400},
		{"duplicated key", `{"caption":"a","caption":"b"}`, "application/json", 400},
		{"duplicated key in a nested object", `{"caption":"a","x":{"k":1,"k":2}}`, "application/json", 400},
		{"same key in sibling objects is fine", `{"caption":"a"}`, "application/json", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			var e edit
			err := DecodeJSON(req, &e)
			if tt.status == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if got := apperror.HTTPStatus(apperror.KindOf(err)); got != tt.status {
				t.Fatalf("status %d, want %d (err %v)", got, tt.status, err)
			}
		})
	}
}

func TestReadiness(t *testing.T) {
	t.Parallel()
	failing := true
	rt, _ := newTestRouter(t, health.Check{Name: "database", Probe: func(context.Context) error {
		if failing {
			return errors.New("down")
		}
		return nil
	}})
	h := rt.Handler()
	if res := do(h, httptest.NewRequest(http.MethodGet, "/healthz", nil)); res.StatusCode != 200 {
		t.Fatalf("healthz %d", res.StatusCode)
	}
	if res := do(h, httptest.NewRequest(http.MethodGet, "/readyz", nil)); res.StatusCode != 503 {
		t.Fatalf("readyz with a failing check: %d, want 503", res.StatusCode)
	}
	failing = false
	if res := do(h, httptest.NewRequest(http.MethodGet, "/readyz", nil)); res.StatusCode != 200 {
		t.Fatalf("readyz with passing checks: %d, want 200", res.StatusCode)
	}
}

func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	rt, _ := newTestRouter(t)
	rt.Mux.HandleFunc("/x", func(http.ResponseWriter, *http.Request) {}).Methods(http.MethodPost)
	req := httptest.NewRequest(http.MethodOptions, "/x", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	res := do(rt.Handler(), req)
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
}

func TestDuplicateKey(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		`{"a":1,"b":2}`:                     "",
		`{"a":1,"a":2}`:                     "a",
		`{"a":{"b":1},"c":{"b":2}}`:         "",
		`{"a":[{"x":1},{"x":2}],"b":3}`:     "",
		`{"a":[{"x":1,"x":2}]}`:             "x",
		`{"a":{"b":[1,2]},"a":0}`:           "a",
		`[{"k":1},{"k":1}]`:                 "",
		`{"a":"a","b":"a"}`:                 "",
		`{"a":1,`:                           "",
		`{"nested":{"deep":{"d":1,"d":2}}}`: "d",
	}
	for in, want := range tests {
		if got := duplicateKey([]byte(in)); got != want {
			t.Errorf("duplicateKey(%s) = %q, want %q", in, got, want)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"caption":"x"}`, `{"caption":"x","caption":"y"}`, `[`, `{"a":{"b":[1,{"c":2}]}}`, "{\"caption\":\"\xff\"}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		var dst struct {
			Caption *string `json:"caption"`
		}
		err := DecodeJSON(req, &dst)
		if err != nil {
			if k := apperror.KindOf(err); k != apperror.Invalid && k != apperror.TooLarge {
				t.Fatalf("kind %v for %q", k, body)
			}
			return
		}
		if dst.Caption != nil && !utf8.ValidString(*dst.Caption) {
			t.Fatalf("invalid UTF-8 accepted from %q", body)
		}
	})
}
