package proxy_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// countingService is a real HTTP server that counts the connections the
// gateway opened to it.
func countingService(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	s := httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s, &conns
}

func TestReadsReuseOneConnection(t *testing.T) {
	t.Parallel()
	post, conns := countingService(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"`+strings.TrimPrefix(r.URL.Path, "/v1/posts/")+`"}`)
	})
	gw := newGateway(t, map[string]string{"GATEWAY_POST_URL": post.URL})
	for _, id := range []string{"p1", "p2", "p3", "p4", "p5"} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			res, body := do(t, newRequest(t, method, gw.URL+"/v1/posts/"+id, nil))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: status %d", method, id, res.StatusCode)
			}
			want := `{"id":"` + id + `"}`
			if method == http.MethodHead {
				want = ""
			}
			if string(body) != want {
				t.Fatalf("%s %s: body %q, want %q", method, id, body, want)
			}
			if res.ContentLength != int64(len(`{"id":"`+id+`"}`)) {
				t.Fatalf("%s %s: Content-Length %d", method, id, res.ContentLength)
			}
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("the gateway opened %d connections for 10 reads one after the other, want 1 (kept alive)", n)
	}
}

func TestIdleConnectionClosedByUpstreamIsRetried(t *testing.T) {
	t.Parallel()
	post, conns := countingService(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok "+r.URL.Path)
	})
	gw := newGateway(t, map[string]string{"GATEWAY_POST_URL": post.URL})
	for i := range 3 {
		res, body := do(t, newRequest(t, http.MethodGet, gw.URL+"/v1/feed", nil))
		if res.StatusCode != http.StatusOK || string(body) != "ok /v1/feed" {
			t.Fatalf("read %d: status %d, body %q", i, res.StatusCode, body)
		}
		// The upstream drops its idle connections (a restart, an idle
		// timeout): the gateway's next read must not fail for it.
		post.CloseClientConnections()
	}
	if n := conns.Load(); n < 2 {
		t.Fatalf("the gateway opened %d connections, want a new one after each close", n)
	}
}

func TestHopByHopHeadersStayOnTheirHop(t *testing.T) {
	t.Parallel()
	var got http.Header
	user := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("Connection", "X-Upstream-Hop")
		w.Header().Set("X-Upstream-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-Upstream-End", "kept")
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(user.Close)
	gw := newGateway(t, map[string]string{"GATEWAY_USER_URL": user.URL})

	req := newRequest(t, http.MethodGet, gw.URL+"/v1/users/u1?x=1", nil)
	req.Header.Set("Connection", "X-Client-Hop")
	req.Header.Set("X-Client-Hop", "1")
	req.Header.Set("Proxy-Authorization", "Basic c2VjcmV0")
	req.Header.Set("Te", "trailers")
	req.Header.Set("Forwarded", "for=203.0.113.9")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-End-To-End", "kept")
	res, _ := do(t, req)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, k := range []string{"X-Client-Hop", "Proxy-Authorization", "Forwarded", "Keep-Alive"} {
		if v := got.Values(k); len(v) > 0 {
			t.Errorf("upstream received %s: %q", k, v)
		}
	}
	if got.Get("X-End-To-End") != "kept" || got.Get("Te") != "trailers" || got.Get("X-Forwarded-Proto") != "http" {
		t.Errorf("upstream received X-End-To-End %q, Te %q, X-Forwarded-Proto %q", got.Get("X-End-To-End"), got.Get("Te"), got.Get("X-Forwarded-Proto"))
	}
	if got.Get("User-Agent") != "Go-http-client/1.1" {
		t.Errorf("upstream received User-Agent %q, want the client's", got.Get("User-Agent"))
	}
	if res.Header.Get("X-Upstream-Hop") != "" || res.Header.Get("Keep-Alive") != "" {
		t.Errorf("client received the upstream's hop-by-hop headers: %v", res.Header)
	}
	if res.Header.Get("X-Upstream-End") != "kept" {
		t.Errorf("client lost X-Upstream-End: %v", res.Header)
	}
}

func TestUpstreamBreakingOffMidBodyBreaksTheClientOff(t *testing.T) {
	t.Parallel()
	var broken atomic.Bool
	post := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/posts/whole" {
			_, _ = io.WriteString(w, "whole")
			return
		}
		// Promises 1000 bytes, sends 10 and hangs up.
		broken.Store(true)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
		_ = buf.Flush()
		_ = conn.Close()
	}))
	t.Cleanup(post.Close)
	gw := newGateway(t, map[string]string{"GATEWAY_POST_URL": post.URL})

	// The client either gets no answer (its head was still buffered) or
	// an answer that breaks off: never one that looks whole.
	res, err := http.DefaultClient.Do(newRequest(t, http.MethodGet, gw.URL+"/v1/posts/broken", nil))
	if err == nil {
		body, rerr := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if rerr == nil {
			t.Fatalf("client read %q (status %d) without an error", body, res.StatusCode)
		}
	}
	if !broken.Load() {
		t.Fatal("the upstream was not reached")
	}
	// The broken connection is not reused.
	res2, body2 := do(t, newRequest(t, http.MethodGet, gw.URL+"/v1/posts/whole", nil))
	if res2.StatusCode != http.StatusOK || string(body2) != "whole" {
		t.Fatalf("next read: status %d, body %q", res2.StatusCode, body2)
	}
}

// pattern is n bytes that differ from any shifted copy of themselves, so
// a lost or repeated piece shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// Large bodies of known length (images) move from the upstream's socket
// to the client's in the kernel: the bytes arrive exact, in whatever
// pieces the upstream wrote them, the connection stays reusable after
// each, and an answer to HEAD, whose length has no bytes behind it, does
// not wait for any.
func TestLargeBodiesMoveSocketToSocket(t *testing.T) {
	t.Parallel()
	big, mid := pattern(1<<20+17), pattern(40<<10)
	post, conns := countingService(t, func(w http.ResponseWriter, r *http.Request) {
		body := big
		if strings.HasSuffix(r.URL.Path, "/mid") {
			body = mid
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		// In pieces of about 11 KB, as the sidecar sends blobs.
		rc := http.NewResponseController(w)
		for len(body) > 0 {
			n := min(len(body), 11_000)
			_, _ = w.Write(body[:n])
			_ = rc.Flush()
			body = body[n:]
		}
	})
	gw := newGateway(t, map[string]string{"GATEWAY_POST_URL": post.URL})
	for i, c := range []struct {
		method, path string
		want         []byte
	}{
		{http.MethodGet, "/v1/posts/p1/big", big},
		{http.MethodHead, "/v1/posts/p1/big", nil},
		{http.MethodGet, "/v1/posts/p1/mid", mid},
		{http.MethodGet, "/v1/posts/p1/big", big},
		{http.MethodHead, "/v1/posts/p1/mid", nil},
		{http.MethodGet, "/v1/posts/p1/big", big},
	} {
		res, body := do(t, newRequest(t, c.method, gw.URL+c.path, nil))
		if res.StatusCode != http.StatusOK || !bytes.Equal(body, c.want) {
			t.Fatalf("%d: %s %s: status %d, %d bytes (want %d), equal %v", i, c.method, c.path, res.StatusCode, len(body), len(c.want), bytes.Equal(body, c.want))
		}
		if want := int64(len(big)); strings.HasSuffix(c.path, "/big") && res.ContentLength != want {
			t.Fatalf("%d: Content-Length %d, want %d", i, res.ContentLength, want)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("the gateway opened %d connections for 6 reads one after the other, want 1 (kept alive)", n)
	}
}

// An upstream that hangs up half-way through a large body of known
// length breaks the client's answer off.
func TestLargeBodyBrokenOffBreaksTheClientOff(t *testing.T) {
	t.Parallel()
	post := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 500000\r\n\r\n")
		_, _ = buf.Write(pattern(200_000))
		_ = buf.Flush()
		_ = conn.Close()
	}))
	t.Cleanup(post.Close)
	gw := newGateway(t, map[string]string{"GATEWAY_POST_URL": post.URL})
	res, err := http.DefaultClient.Do(newRequest(t, http.MethodGet, gw.URL+"/v1/posts/p1/image", nil))
	if err != nil {
		return // broken off before the head: fine too
	}
	body, rerr := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if rerr == nil {
		t.Fatalf("client read %d bytes (status %d) without an error", len(body), res.StatusCode)
	}
	if len(body) >= 500_000 {
		t.Fatalf("client got %d bytes", len(body))
	}
}
