package proxy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"pixshare/gateway/internal/proxy"
	"pixshare/gateway/internal/upstream"
	"pixshare/platform/config"
	"pixshare/platform/health"
	"pixshare/platform/httpserver"
	"pixshare/platform/logging"
)

// The benchmarks below measure what the gateway's process spends on one
// request: a warm GET /v1/posts/{id} proxied to the post service, against
// GET /healthz answered by the gateway itself through the same chain.
//
// Everything the gateway does runs in this process, as in production: its
// http.Server (httpserver.NewServer, with its timeouts) on a loopback
// listener, the whole middleware chain (request id, trace context, client
// address and hop token, access log at info into a real file, recovery,
// CORS, route, body limit), and the reverse proxy with the shared upstream
// transport. The upstream is a real HTTP server in another process (this
// test binary started again as benchUpstreamEnv), answering a post-sized
// JSON document over keep-alive loopback TCP, so its CPU is not counted
// here. The client is a bare keep-alive TCP connection writing the request
// bytes and reading the answer by its Content-Length, so it adds next to
// nothing. cpu-ns/op is this process's user+system CPU (getrusage) per
// request: the figure the goal (proxied ≤ 2× /healthz) is about; ns/op is
// wall time per request, which also holds the wait for the upstream.

// benchUpstreamEnv makes this test binary a stand-in post service.
const benchUpstreamEnv = "PIXSHARE_BENCH_UPSTREAM"

func TestMain(m *testing.M) {
	if os.Getenv(benchUpstreamEnv) == "1" {
		serveBenchUpstream()
		return
	}
	os.Exit(m.Run())
}

// benchPost is what the post service answers for a ready post (1 KiB).
var benchPost = func() []byte {
	var b bytes.Buffer
	b.WriteString(`{"id":"01JB7Q4N8Y3M9ZC5W2XK6R1T0A","author":{"id":"01JB7Q1V5D2F8H3K6M9P4R7T2W","username":"ld7f3k2_004","display_name":"Load user 4"},` +
		`"caption":"Evening light over the harbour, taken from the old lighthouse #sunset #harbour #travel","tags":["sunset","harbour","travel"],` +
		`"status":"ready","created_at":"2026-12-06T06:12:44.118Z","like_count":12,"comment_count":3,"images":{`)
	for i, size := range []string{"thumb", "small", "medium", "large", "original"} {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s":{"url":"/v1/posts/01JB7Q4N8Y3M9ZC5W2XK6R1T0A/images/%s","width":%d,"height":%d,"content_type":"image/jpeg"}`, size, size, 320*(i+1), 213*(i+1))
	}
	b.WriteString(`}`)
	// Pad to the size of a typical post document.
	b.WriteString(`,"location":"` + strings.Repeat("x", max(0, 1024-b.Len()-15)) + `"}`)
	return b.Bytes()
}()

// serveBenchUpstream answers like the post service's warm read until its
// standard input closes (the benchmark ended).
func serveBenchUpstream() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	length := strconv.Itoa(len(benchPost))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		h.Set("ETag", `"p-01JB7Q4N8Y3M9ZC5W2XK6R1T0A-12-3"`)
		h.Set("Cache-Control", "private, no-cache")
		h.Set("Vary", "Origin")
		h.Set(httpserver.HeaderRequestID, r.Header.Get(httpserver.HeaderRequestID))
		_, _ = w.Write(benchPost)
	})}
	go func() { _ = srv.Serve(ln) }()
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// startBenchUpstream starts the stand-in post service and returns its URL.
func startBenchUpstream(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), benchUpstreamEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("upstream did not start: %v", err)
	}
	return "http://" + strings.TrimSpace(addr)
}

// startBenchGateway serves the gateway (platform router, middleware and
// routing table, as service.Module wires them) on a loopback port.
func startBenchGateway(b *testing.B, postURL string) string {
	b.Helper()
	env := map[string]string{
		"GATEWAY_USER_URL":  "http://127.0.0.1:1",
		"GATEWAY_POST_URL":  postURL,
		"GATEWAY_HOP_TOKEN": "bench-hop-token",
		"TRUSTED_PROXIES":   "10.0.0.0/8",
	}
	cfg, err := config.LoadFrom[upstream.Config](env)
	if err != nil {
		b.Fatal(err)
	}
	hcfg, err := config.LoadFrom[httpserver.Config](env)
	if err != nil {
		b.Fatal(err)
	}
	// The access log goes through a real file, as the gateway's goes to
	// its standard error: one write per logged line.
	sink, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sink.Close() })
	logger, err := logging.NewWithWriter("gateway", logging.Config{Level: "info"}, sink)
	if err != nil {
		b.Fatal(err)
	}
	transport := upstream.NewTransport(cfg)
	b.Cleanup(transport.CloseIdleConnections)
	rt := httpserver.NewRouter(hcfg, logger, health.NewRegistry(health.Params{}))
	proxy.Register(rt, cfg, transport, logger)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := httpserver.NewServer(hcfg, rt)
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// rawClient is one keep-alive connection that sends a fixed request and
// reads each answer by its Content-Length, allocating nothing.
type rawClient struct {
	conn net.Conn
	r    *bufio.Reader
	req  []byte
}

func newRawClient(b *testing.B, addr, path string) *rawClient {
	b.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: Go-http-client/1.1\r\n" +
		"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMUpCN1ExVjVEMkY4SDNLNk05UDRSN1QyVyJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg\r\n" +
		"Accept-Encoding: gzip\r\n\r\n"
	return &rawClient{conn: conn, r: bufio.NewReaderSize(conn, 16<<10), req: []byte(req)}
}

// do sends the request and reads the whole answer; it returns the status.
func (c *rawClient) do() (int, error) {
	if _, err := c.conn.Write(c.req); err != nil {
		return 0, err
	}
	status, length := 0, -1
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if status == 0 {
			if len(line) < 12 {
				return 0, fmt.Errorf("bad status line %q", line)
			}
			status, _ = strconv.Atoi(string(line[9:12]))
			continue
		}
		if len(line) <= 2 {
			break
		}
		const cl = "content-length:"
		if len(line) > len(cl) && strings.EqualFold(string(line[:len(cl)]), cl) {
			length, _ = strconv.Atoi(strings.TrimSpace(string(line[len(cl):])))
		}
	}
	if length < 0 {
		return status, fmt.Errorf("answer without Content-Length (status %d)", status)
	}
	_, err := c.r.Discard(length)
	return status, err
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchGateway runs path through the gateway from clients concurrent
// connections: 1 is one request at a time; 8 is the load tool's ceiling
// loop (8 workers), where the gateway rarely waits idle for the upstream.
func benchGateway(b *testing.B, path string, clients int) {
	post := startBenchUpstream(b)
	addr := startBenchGateway(b, post)
	pool := make(chan *rawClient, clients)
	for range clients {
		c := newRawClient(b, addr, path)
		// One request first: the connections to the gateway and to the
		// upstream are open (warm) before the clock starts.
		if status, err := c.do(); err != nil || status != http.StatusOK {
			b.Fatalf("warm-up: status %d, %v", status, err)
		}
		pool <- c
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	if clients == 1 {
		c := <-pool
		for range b.N {
			if status, err := c.do(); err != nil || status != http.StatusOK {
				b.Fatalf("status %d, %v", status, err)
			}
		}
	} else {
		b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		var failed atomic.Value
		b.RunParallel(func(pb *testing.PB) {
			c := <-pool
			for pb.Next() {
				if status, err := c.do(); err != nil || status != http.StatusOK {
					failed.Store(fmt.Sprintf("status %d, %v", status, err))
					return
				}
			}
		})
		if f := failed.Load(); f != nil {
			b.Fatal(f)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkGatewayPost is a warm GET /v1/posts/{id} through the gateway.
func BenchmarkGatewayPost(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			benchGateway(b, "/v1/posts/01JB7Q4N8Y3M9ZC5W2XK6R1T0A", clients)
		})
	}
}

// BenchmarkGatewayHealthz is GET /healthz, answered by the gateway itself.
func BenchmarkGatewayHealthz(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			benchGateway(b, "/healthz", clients)
		})
	}
}
