// Package refs measures the reference points a load run is read against:
// the gateway's own constant answer (the ceiling of cached reads), nginx
// doing the gateway's job (proxying the same warm read, serving the same
// image bytes), a gRPC call directly and through two Dapr sidecars, the
// bare SQL of a search, and the raw password-hash rate (the ceiling of
// logins).
package refs

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"pixshare/tools/load/internal/attack"
	"pixshare/tools/load/internal/nginx"
	"pixshare/tools/load/internal/procs"
	"pixshare/tools/load/internal/stats"
)

// CeilingConfig describes the two closed-loop runs of the ceiling.
type CeilingConfig struct {
	Base     string
	Workers  uint64
	Duration time.Duration
	// Posts and Token: GET /v1/posts/{id} rotates over Posts as Token's
	// user, after one warming read of each.
	Posts []string
	Token string
	Logf  func(format string, args ...any)
	// Stack, when found, has the CPU of its processes accounted per loop.
	Stack *procs.Stack
	// Nginx, when running, is the gateway's peer: it proxies the same warm
	// read to the post service and serves the same image bytes from disk.
	Nginx *nginx.Server
	// ImageSizes are the renditions of ImagePost read in closed loops
	// through the gateway (and from nginx's disk). ImagePost "" picks
	// the post of Posts with the largest original.
	ImageSizes []string
	ImagePost  string
	// Rounds splits each loop of the comparison (/healthz, the warm read,
	// the warm read through nginx) into this many parts, run in turn:
	// the machine's speed drifts by a fifth within minutes here, so loops
	// run one after the other compare different minutes; in rounds, each
	// ratio compares the same ones. 0 or 1: one part each.
	Rounds int
}

// Ceiling compares the throughput of a warm GET /v1/posts/{id} with GET
// /healthz through the gateway, each as fast as Workers concurrent
// requests go.
type Ceiling struct {
	Workers    uint64        `json:"workers"`
	DurationS  float64       `json:"duration_s"`
	Healthz    stats.Summary `json:"healthz"`
	Post       stats.Summary `json:"post_warm"`
	HealthzCPU *procs.Usage  `json:"healthz_cpu,omitempty"`
	PostCPU    *procs.Usage  `json:"post_warm_cpu,omitempty"`
	RatioPosts float64       `json:"post_to_healthz_throughput"`
	// GatewayReadToHealthzCPU is the gateway's CPU per proxied warm read
	// over its CPU per /healthz: what proxying costs it beyond its own
	// middleware chain.
	GatewayReadToHealthzCPU float64 `json:"gateway_cpu_warm_read_to_healthz,omitempty"`
	// Nginx is the same warm read proxied by nginx, when it ran.
	Nginx *NginxPeer `json:"nginx,omitempty"`
	// Images are closed loops of image bytes, per size.
	Images []ImageLoop `json:"images,omitempty"`
	// Rounds is how many parts each loop of the comparison ran in, in
	// turn; ByRound has the ratios of each round alone (their spread is
	// how much the machine moved within the run).
	Rounds  int          `json:"rounds"`
	ByRound []RoundRatio `json:"by_round,omitempty"`
	Note    string       `json:"note"`
}

// RoundRatio is the goals' ratios in one round of the ceiling.
type RoundRatio struct {
	PostToHealthz  float64 `json:"post_to_healthz_throughput"`
	GatewayToNginx float64 `json:"gateway_to_nginx_throughput,omitempty"`
	GatewayCPU     float64 `json:"gateway_cpu_warm_read_to_healthz,omitempty"`
}

// NginxPeer is nginx doing the gateway's job on the warm read.
type NginxPeer struct {
	Version         string `json:"version"`
	WorkerProcesses string `json:"worker_processes"`
	Workers         int    `json:"workers"`
	AccessLog       bool   `json:"access_log"`
	Upstream        string `json:"upstream"`
	Conf            string `json:"conf"`
	// Post is GET /v1/posts/{id} through nginx; PostCPU its CPU (the
	// nginx master and workers as "nginx").
	Post    stats.Summary `json:"post_warm"`
	PostCPU *procs.Usage  `json:"post_warm_cpu,omitempty"`
	// GatewayToNginx is the gateway's warm-read ok/s over nginx's.
	GatewayToNginx float64 `json:"gateway_to_nginx_throughput"`
	// GatewayCPUMs and NginxCPUMs are CPU ms per warm read of the proxy
	// alone (the gateway process; nginx's processes).
	GatewayCPUMs float64 `json:"gateway_cpu_ms_per_read,omitempty"`
	NginxCPUMs   float64 `json:"nginx_cpu_ms_per_read,omitempty"`
}

// ImageLoop is one rendition read in closed loops: through the gateway
// (from the post service, from its blob store) and, when nginx ran, the
// same bytes as a static file of nginx (sendfile).
type ImageLoop struct {
	Size   string `json:"size"`
	PostID string `json:"post_id"`
	Bytes  int    `json:"bytes"`
	// Gateway is GET /v1/posts/{id}/image?size=…; MBps is its ok/s ×
	// Bytes in MB/s.
	Gateway     stats.Summary  `json:"gateway"`
	GatewayMBps float64        `json:"gateway_mb_per_s"`
	GatewayCPU  *procs.Usage   `json:"gateway_cpu,omitempty"`
	Nginx       *stats.Summary `json:"nginx,omitempty"`
	NginxMBps   float64        `json:"nginx_mb_per_s,omitempty"`
	NginxCPU    *procs.Usage   `json:"nginx_cpu,omitempty"`
	// GatewayToNginx is the gateway's ok/s over nginx's.
	GatewayToNginx float64 `json:"gateway_to_nginx_throughput,omitempty"`
}

// RunCeiling runs the closed loops of the comparison (/healthz, the warm
// read, and the warm read through nginx when it runs) in cfg.Rounds
// rounds, then the image loops.
func RunCeiling(ctx context.Context, cfg CeilingConfig) (Ceiling, error) {
	base := strings.TrimRight(cfg.Base, "/")
	rounds := max(cfg.Rounds, 1)
	out := Ceiling{Workers: cfg.Workers, DurationS: cfg.Duration.Seconds(), Rounds: rounds,
		Note: fmt.Sprintf("closed loops of %d concurrent requests from the same machine; /healthz is answered by the gateway itself, "+
			"through its whole middleware chain, with a constant JSON body (and no access log line: probes log at debug)", cfg.Workers)}

	// Warm the post cache (and the auth and graph caches) first.
	h := http.Header{"Authorization": {"Bearer " + cfg.Token}}
	for _, id := range cfg.Posts {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/posts/"+id, nil)
		req.Header = h.Clone()
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	var n, m atomic.Uint64
	loops := []*loop{
		{name: "ceiling-healthz", cfg: cfg, targeter: func(t *vegeta.Target) error {
			*t = vegeta.Target{Method: http.MethodGet, URL: base + "/healthz"}
			return nil
		}},
		{name: "ceiling-post", cfg: cfg, targeter: func(t *vegeta.Target) error {
			id := cfg.Posts[int(n.Add(1))%len(cfg.Posts)]
			*t = vegeta.Target{Method: http.MethodGet, URL: base + "/v1/posts/" + id, Header: h}
			return nil
		}},
	}
	if ng := cfg.Nginx; ng != nil {
		// The same warm read, the same rotation over the posts, the same
		// header, proxied by nginx to the post service.
		ncfg := cfg
		ncfg.Stack = withNginx(cfg.Stack, ng)
		loops = append(loops, &loop{name: "ceiling-nginx-post", cfg: ncfg, targeter: func(t *vegeta.Target) error {
			id := cfg.Posts[int(m.Add(1))%len(cfg.Posts)]
			*t = vegeta.Target{Method: http.MethodGet, URL: ng.URL("/v1/posts/" + id), Header: h}
			return nil
		}})
	}
	part := cfg.Duration / time.Duration(rounds)
	for r := range rounds {
		// Each loop goes first in as many rounds as the others.
		for i := range loops {
			if err := loops[(r+i)%len(loops)].run(ctx, part); err != nil {
				return out, err
			}
		}
		healthz, post := loops[0].last, loops[1].last
		rr := RoundRatio{PostToHealthz: safeRatio(post.goodput, healthz.goodput),
			GatewayCPU: safeRatio(post.gatewayMs, healthz.gatewayMs)}
		if len(loops) > 2 {
			rr.GatewayToNginx = safeRatio(post.goodput, loops[2].last.goodput)
		}
		out.ByRound = append(out.ByRound, rr)
	}
	for _, l := range loops {
		l.summarize()
	}
	out.Healthz, out.HealthzCPU = loops[0].summary, loops[0].cpu
	out.Post, out.PostCPU = loops[1].summary, loops[1].cpu
	out.RatioPosts = safeRatio(out.Post.Goodput, out.Healthz.Goodput)
	if h, p := out.HealthzCPU, out.PostCPU; h != nil && p != nil {
		out.GatewayReadToHealthzCPU = safeRatio(p.PerRequestMs["gateway"], h.PerRequestMs["gateway"])
	}
	if ng := cfg.Nginx; ng != nil {
		peer := &NginxPeer{Version: ng.Version, WorkerProcesses: ng.Config.Workers, Workers: ng.Workers(), AccessLog: ng.Config.AccessLog,
			Upstream: ng.Config.Upstream, Conf: ng.Conf, Post: loops[2].summary, PostCPU: loops[2].cpu}
		peer.GatewayToNginx = safeRatio(out.Post.Goodput, peer.Post.Goodput)
		if out.PostCPU != nil {
			peer.GatewayCPUMs = out.PostCPU.PerRequestMs["gateway"]
		}
		if peer.PostCPU != nil {
			peer.NginxCPUMs = peer.PostCPU.PerRequestMs["nginx"]
		}
		out.Nginx = peer
	}

	if len(cfg.ImageSizes) > 0 && cfg.ImagePost == "" {
		cfg.ImagePost = largestOriginal(ctx, base, h, cfg.Posts)
	}
	for _, size := range cfg.ImageSizes {
		img, err := imageLoops(ctx, cfg, base, h, size)
		if err != nil {
			return out, err
		}
		out.Images = append(out.Images, img)
	}
	return out, nil
}

// largestOriginal is the post of ids whose original image is the
// largest, by the Content-Length of HEAD requests (ids[0] when none says).
func largestOriginal(ctx context.Context, base string, h http.Header, ids []string) string {
	best, size := ids[0], int64(-1)
	for _, id := range ids {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, base+"/v1/posts/"+id+"/image?size=original", nil)
		if err != nil {
			continue
		}
		req.Header = h.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		res.Body.Close()
		if res.StatusCode == http.StatusOK && res.ContentLength > size {
			best, size = id, res.ContentLength
		}
	}
	return best
}

// imageLoops reads one rendition of cfg.ImagePost in a closed loop through the
// gateway, then, with nginx, the same bytes (downloaded once through the
// gateway) as nginx's static file.
func imageLoops(ctx context.Context, cfg CeilingConfig, base string, h http.Header, size string) (ImageLoop, error) {
	out := ImageLoop{Size: size, PostID: cfg.ImagePost}
	path := "/v1/posts/" + cfg.ImagePost + "/image?size=" + size
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return out, fmt.Errorf("ceiling: image %s: %w", size, err)
	}
	req.Header = h.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return out, fmt.Errorf("ceiling: image %s: %w", size, err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		return out, fmt.Errorf("ceiling: GET %s: status %d, %d bytes, %v", path, res.StatusCode, len(body), err)
	}
	out.Bytes = len(body)
	viaGateway := func(t *vegeta.Target) error {
		*t = vegeta.Target{Method: http.MethodGet, URL: base + path, Header: h}
		return nil
	}
	if out.Gateway, out.GatewayCPU, err = closedLoop(ctx, "ceiling-image-"+size, viaGateway, cfg); err != nil {
		return out, err
	}
	out.GatewayMBps = out.Gateway.Goodput * float64(out.Bytes) / 1e6
	if cfg.Nginx == nil {
		return out, nil
	}
	static, err := cfg.Nginx.Put(size+".jpg", body)
	if err != nil {
		return out, err
	}
	fromDisk := func(t *vegeta.Target) error {
		*t = vegeta.Target{Method: http.MethodGet, URL: cfg.Nginx.URL(static), Header: h}
		return nil
	}
	ncfg := cfg
	ncfg.Stack = withNginx(cfg.Stack, cfg.Nginx)
	s, cpu, err := closedLoop(ctx, "ceiling-nginx-image-"+size, fromDisk, ncfg)
	if err != nil {
		return out, err
	}
	out.Nginx, out.NginxCPU = &s, cpu
	out.NginxMBps = s.Goodput * float64(out.Bytes) / 1e6
	if s.Goodput > 0 {
		out.GatewayToNginx = out.Gateway.Goodput / s.Goodput
	}
	return out, nil
}

// withNginx is the stack's processes (when found) and nginx's, so the
// CPU table of an nginx loop has both and "others" counts neither.
func withNginx(stack *procs.Stack, ng *nginx.Server) *procs.Stack {
	s := &procs.Stack{Names: map[int]string{}}
	if stack != nil {
		maps.Copy(s.Names, stack.Names)
	}
	if p, err := ng.Processes(); err == nil {
		maps.Copy(s.Names, p)
	}
	return s
}

// loop is one closed loop of the comparison, run in rounds: its samples
// and CPU add up over the rounds.
type loop struct {
	name     string
	cfg      CeilingConfig
	targeter vegeta.Targeter

	samples []stats.Sample
	elapsed time.Duration
	cpu     *procs.Usage
	last    roundResult
	summary stats.Summary
}

// roundResult is what one round of a loop measured.
type roundResult struct {
	goodput   float64
	gatewayMs float64 // gateway CPU per request (0: not measured)
}

func (l *loop) run(ctx context.Context, d time.Duration) error {
	samples, elapsed, cpu, err := runLoop(ctx, l.name, l.targeter, l.cfg, d)
	if err != nil {
		return err
	}
	// The samples' times go on from where the last round's ended.
	for i := range samples {
		samples[i].At += l.elapsed
	}
	l.samples = append(l.samples, samples...)
	l.elapsed += elapsed
	l.last = roundResult{goodput: stats.Summarize(samples, elapsed).Goodput}
	if cpu != nil {
		l.last.gatewayMs = cpu.PerRequestMs["gateway"]
		total := *cpu
		if l.cpu != nil {
			total = procs.Add(*l.cpu, *cpu)
		}
		l.cpu = &total
	}
	return nil
}

func (l *loop) summarize() {
	l.summary = stats.Summarize(l.samples, l.elapsed)
	if l.cfg.Logf != nil {
		logLoop(l.cfg.Logf, l.name, l.summary)
	}
}

// logLoop says what a closed loop measured.
func logLoop(logf func(string, ...any), name string, s stats.Summary) {
	logf("%s: %.0f req/s (%.0f ok/s), p50 %.1f ms, p99 %.1f ms, %d errors", name, s.Throughput, s.Goodput, s.LatencyMs.P50, s.LatencyMs.P99, s.Errors)
}

func safeRatio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// closedLoop runs one closed loop for cfg.Duration.
func closedLoop(ctx context.Context, name string, tr vegeta.Targeter, cfg CeilingConfig) (stats.Summary, *procs.Usage, error) {
	samples, elapsed, cpu, err := runLoop(ctx, name, tr, cfg, cfg.Duration)
	s := stats.Summarize(samples, elapsed)
	if cfg.Logf != nil {
		logLoop(cfg.Logf, name, s)
	}
	return s, cpu, err
}

func runLoop(ctx context.Context, name string, tr vegeta.Targeter, cfg CeilingConfig, d time.Duration) ([]stats.Sample, time.Duration, *procs.Usage, error) {
	var before procs.Snapshot
	if cfg.Stack != nil {
		before = cfg.Stack.Take()
	}
	start := time.Now()
	var samples []stats.Sample
	elapsed, err := attack.Run(ctx, attack.Options{Name: name, Rate: 0, Duration: d, Targeter: tr,
		Workers: cfg.Workers, MaxWorkers: cfg.Workers, MaxBody: 0, Timeout: 30 * time.Second},
		func(r *vegeta.Result) {
			if r.URL == "" {
				return // not a request: the targeter failed
			}
			samples = append(samples, stats.Sample{At: r.Timestamp.Sub(start), Latency: r.Latency, Code: int(r.Code), Error: r.Error})
		})
	var cpu *procs.Usage
	if cfg.Stack != nil {
		u := procs.Since(before, cfg.Stack.Take(), len(samples))
		cpu = &u
	}
	return samples, elapsed, cpu, err
}
