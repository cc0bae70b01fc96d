package nginx

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

func TestConf(t *testing.T) {
	t.Parallel()
	conf := Conf("/tmp/n", 18080, Config{Upstream: "127.0.0.1:8082", Workers: "2", AccessLog: true}, "nobody nogroup")
	for _, want := range []string{
		"daemon off;", "worker_processes 2;", "user nobody nogroup;", "pid /tmp/n/nginx.pid;", "error_log /tmp/n/logs/error.log warn;",
		"access_log /tmp/n/logs/access.log combined;", "sendfile on;", "proxy_temp_path /tmp/n/tmp/proxy;",
		"server 127.0.0.1:8082;", "keepalive 32;", "listen 127.0.0.1:18080;", "proxy_http_version 1.1;",
		`proxy_set_header Connection "";`, "location /static/ { root /tmp/n/www; }",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("conf lacks %q:\n%s", want, conf)
		}
	}
	off := Conf("/tmp/n", 1, Config{Upstream: "a:1", Workers: "auto"}, "")
	if !strings.Contains(off, "access_log off;") || strings.Contains(off, "user ") || !strings.Contains(off, "worker_processes auto;") {
		t.Errorf("conf without access log or user:\n%s", off)
	}
}

// TestRealNginx runs nginx when this machine has it (it is not installed
// by a test): the reverse proxy keeps its upstream connections alive,
// files are served as written, and Stop leaves no process.
func TestRealNginx(t *testing.T) {
	bin, err := Find(context.Background(), "", false, nil)
	if err != nil {
		t.Skipf("no nginx here: %v", err)
	}
	var conns atomic.Int64
	var sawConnection atomic.Value
	sawConnection.Store("")
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := r.Header.Get("Connection"); c != "" {
			sawConnection.Store(c)
		}
		io.WriteString(w, `{"id":"`+strings.TrimPrefix(r.URL.Path, "/v1/posts/")+`","auth":"`+r.Header.Get("Authorization")+`"}`)
	}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	defer up.Close()

	s, err := Start(context.Background(), Config{Binary: bin, Upstream: strings.TrimPrefix(up.URL, "http://"), Workers: "2", AccessLog: true})
	if err != nil {
		t.Fatal(err)
	}
	master := s.cmd.Process.Pid
	stopped := false
	defer func() {
		if !stopped {
			s.Stop()
		}
	}()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	for i := range 20 {
		req, _ := http.NewRequest(http.MethodGet, s.URL("/v1/posts/p1"), nil)
		req.Header.Set("Authorization", "Bearer t")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(body) != `{"id":"p1","auth":"Bearer t"}` {
			t.Fatalf("request %d: %d %s", i, res.StatusCode, body)
		}
	}
	// Two workers may each open one connection; without keepalive every
	// request would open its own.
	if n := conns.Load(); n > 2 {
		t.Errorf("%d upstream connections for 20 requests: keepalive not in use", n)
	}
	if c := sawConnection.Load().(string); c != "" {
		t.Errorf("upstream saw Connection: %s", c)
	}

	payload := bytes.Repeat([]byte("jpeg"), 100_000)
	path, err := s.Put("large.jpg", payload)
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Get(s.URL(path))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(got, payload) || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("static file: %d, %d bytes, %s", res.StatusCode, len(got), res.Header.Get("Content-Type"))
	}
	if _, err := s.Put("../x", nil); err == nil {
		t.Error("Put accepted a path")
	}

	procs, err := s.Processes()
	if err != nil || len(procs) != 3 || s.Workers() != 2 {
		t.Errorf("processes %v (%v), want the master and 2 workers", procs, err)
	}
	if b, err := os.ReadFile(s.Dir + "/logs/access.log"); err != nil || strings.Count(string(b), "\n") != 21 {
		t.Errorf("access log: %v, %d lines, want 21", err, strings.Count(string(b), "\n"))
	}
	s.Stop()
	stopped = true
	for pid := range procs {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("nginx process %d left running (master %d)", pid, master)
		}
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("directory %s left: %v", s.Dir, err)
	}
}
