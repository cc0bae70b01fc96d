// Package refs measures the reference points a load run is read against:
// the gateway's own constant answer (the ceiling of cached reads), a gRPC
// call directly and through two Dapr sidecars, the bare SQL of a search,
// and the raw password-hash rate (the ceiling of logins).
package refs

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"pixshare/tools/load/internal/attack"
	"pixshare/tools/load/internal/mix"
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
	Note       string        `json:"note"`
}

// RunCeiling runs the two closed loops, /healthz first.
func RunCeiling(ctx context.Context, cfg CeilingConfig) (Ceiling, error) {
	base := strings.TrimRight(cfg.Base, "/")
	out := Ceiling{Workers: cfg.Workers, DurationS: cfg.Duration.Seconds(),
		Note: fmt.Sprintf("closed loops of %d concurrent requests from the same machine; /healthz is answered by the gateway itself, "+
			"through its whole middleware chain, with a constant JSON body (and no access log line: probes log at debug)", cfg.Workers)}
	health := func(t *vegeta.Target) error {
		*t = vegeta.Target{Method: http.MethodGet, URL: base + "/healthz"}
		return nil
	}
	var err error
	if out.Healthz, out.HealthzCPU, err = closedLoop(ctx, "ceiling-healthz", health, cfg); err != nil {
		return out, err
	}

	// Warm the post cache (and the auth and graph caches) first.
	h := http.Header{"Authorization": {"Bearer " + cfg.Token}}
	for _, id := range cfg.Posts {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/posts/"+id, nil)
		req.Header = h.Clone()
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	var n atomic.Uint64
	post := func(t *vegeta.Target) error {
		id := cfg.Posts[int(n.Add(1))%len(cfg.Posts)]
		*t = vegeta.Target{Method: http.MethodGet, URL: base + "/v1/posts/" + id, Header: h}
		return nil
	}
	if out.Post, out.PostCPU, err = closedLoop(ctx, "ceiling-post", post, cfg); err != nil {
		return out, err
	}
	if out.Healthz.Goodput > 0 {
		out.RatioPosts = out.Post.Goodput / out.Healthz.Goodput
	}
	return out, nil
}

func closedLoop(ctx context.Context, name string, tr vegeta.Targeter, cfg CeilingConfig) (stats.Summary, *procs.Usage, error) {
	var before procs.Snapshot
	if cfg.Stack != nil {
		before = cfg.Stack.Take()
	}
	start := time.Now()
	var samples []stats.Sample
	elapsed, err := attack.Run(ctx, attack.Options{Name: name, Rate: 0, Duration: cfg.Duration, Targeter: tr,
		Workers: cfg.Workers, MaxWorkers: cfg.Workers, MaxBody: 0, Timeout: 30 * time.Second},
		func(r *vegeta.Result) {
			if mix.Classify(r.Method, r.URL) == mix.Other {
				return
			}
			samples = append(samples, stats.Sample{At: r.Timestamp.Sub(start), Latency: r.Latency, Code: int(r.Code), Error: r.Error})
		})
	s := stats.Summarize(samples, elapsed)
	var cpu *procs.Usage
	if cfg.Stack != nil {
		u := procs.Since(before, cfg.Stack.Take(), len(samples))
		cpu = &u
	}
	if cfg.Logf != nil {
		cfg.Logf("%s: %.0f req/s (%.0f ok/s), p50 %.1f ms, p99 %.1f ms, %d errors", name, s.Throughput, s.Goodput, s.LatencyMs.P50, s.LatencyMs.P99, s.Errors)
	}
	return s, cpu, err
}
