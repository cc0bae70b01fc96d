// Package report is the outcome of a load run: results.json (the whole
// record, for tools) and summary.md (the tables docs/benchmarks.md quotes).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"pixshare/tools/load/internal/procs"
	"pixshare/tools/load/internal/refs"
	"pixshare/tools/load/internal/stages"
	"pixshare/tools/load/internal/stats"
	"pixshare/tools/load/internal/uploads"
)

// Report is everything a run measured.
type Report struct {
	Tool     string            `json:"tool"`
	RunID    string            `json:"run_id"`
	Started  time.Time         `json:"started"`
	Finished time.Time         `json:"finished"`
	Target   string            `json:"target"`
	Flags    map[string]string `json:"flags"`
	Machine  Machine           `json:"machine"`
	Seed     Seed              `json:"seed"`
	Mix      *Mix              `json:"mix,omitempty"`
	// MixCPU is the CPU of the stack's processes during the mix (with the
	// uploads when they ran beside it).
	MixCPU *procs.Usage `json:"mix_cpu,omitempty"`
	// UploadsCPU is the CPU of the upload phase when it ran on its own
	// (per request = per accepted upload).
	UploadsCPU *procs.Usage  `json:"uploads_cpu,omitempty"`
	Uploads    *Uploads      `json:"uploads,omitempty"`
	Ceiling    *refs.Ceiling `json:"ceiling,omitempty"`
	GRPC       *refs.GRPC    `json:"grpc,omitempty"`
	Argon2     *refs.Argon2  `json:"argon2,omitempty"`
	Goals      []Goal        `json:"goals"`
	// Skipped names the references not measured, and why.
	Skipped map[string]string `json:"skipped,omitempty"`
	Plots   []string          `json:"plots,omitempty"`
}

// Machine is where the run happened. The load generator shares it with
// the stack.
type Machine struct {
	Cores        int        `json:"cores"`
	GOMAXPROCS   int        `json:"gomaxprocs"`
	OS           string     `json:"os"`
	Arch         string     `json:"arch"`
	GoVersion    string     `json:"go_version"`
	LoadAvgStart [3]float64 `json:"loadavg_start"`
	LoadAvgEnd   [3]float64 `json:"loadavg_end"`
}

// ThisMachine describes the machine now (the load average at start).
func ThisMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version()}
	m.LoadAvgStart, _ = LoadAvg()
	return m
}

// LoadAvg reads the 1, 5 and 15 minute load averages (Linux).
func LoadAvg() ([3]float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return [3]float64{}, fmt.Errorf("load average: %w", err)
	}
	return ParseLoadAvg(string(b))
}

// ParseLoadAvg parses the text of /proc/loadavg.
func ParseLoadAvg(s string) ([3]float64, error) {
	var out [3]float64
	f := strings.Fields(s)
	if len(f) < 3 {
		return out, fmt.Errorf("load average: %q", s)
	}
	for i := range out {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return out, fmt.Errorf("load average: %w", err)
		}
		out[i] = v
	}
	return out, nil
}

// Seed is what the run seeded.
type Seed struct {
	Users        int     `json:"users"`
	Posts        int     `json:"posts"`
	Ready        int     `json:"ready"`
	Failed       int     `json:"failed"`
	Comments     int     `json:"comments"`
	Pictures     int     `json:"pictures"`
	TookS        float64 `json:"took_s"`
	PicturesFrom string  `json:"pictures_from"`
}

// Mix is the driven mix.
type Mix struct {
	Weights   string        `json:"weights"`
	Rate      float64       `json:"rate_per_s"`
	DurationS float64       `json:"duration_s"`
	Total     stats.Summary `json:"total"`
	Routes    []Route       `json:"routes"`
}

// Route is one route of the mix.
type Route struct {
	Route string  `json:"route"`
	Share float64 `json:"share"`
	stats.Summary
}

// Uploads is the upload→ready measurement beside the compute time.
type Uploads struct {
	Phase string `json:"phase"`
	Image struct {
		Width  int    `json:"width"`
		Height int    `json:"height"`
		Bytes  int    `json:"bytes"`
		Source string `json:"source"`
	} `json:"image"`
	uploads.Result
	Compute *uploads.Compute `json:"compute,omitempty"`
	// Stages explains 202 → ready from the thumbnailer's log lines.
	Stages *stages.Breakdown `json:"stages,omitempty"`
}

// Goal is one of the project's speed goals, as measured by this run.
type Goal struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target string  `json:"target"`
	Met    bool    `json:"met"`
	Detail string  `json:"detail"`
}

// AddGoals derives the goals this run measured.
func (r *Report) AddGoals() {
	r.Goals = nil
	if u := r.Uploads; u != nil && u.Compute != nil && u.Compute.Ms > 0 && u.Ready > 0 {
		v := u.ReadyAfter202Ms.P95 / u.Compute.Ms
		r.Goals = append(r.Goals, Goal{Name: "upload→ready p95 / thumbnail compute", Value: v, Target: "≤ 1.3", Met: v <= 1.3,
			Detail: fmt.Sprintf("p95 %.0f ms (202 → ready) vs %.0f ms compute, %dx%d at %.3g uploads/s, %s phase",
				u.ReadyAfter202Ms.P95, u.Compute.Ms, u.Image.Width, u.Image.Height, u.Rate, u.Phase)})
	}
	if c := r.Ceiling; c != nil && c.Healthz.Goodput > 0 {
		r.Goals = append(r.Goals, Goal{Name: "GET /v1/posts/{id} warm / GET /healthz throughput", Value: c.RatioPosts, Target: "≥ 0.35",
			Met: c.RatioPosts >= 0.35, Detail: fmt.Sprintf("%.0f vs %.0f ok/s with %d concurrent requests", c.Post.Goodput, c.Healthz.Goodput, c.Workers)})
	}
	if c := r.Ceiling; c != nil && c.Nginx != nil && c.Nginx.Post.Goodput > 0 {
		n := c.Nginx
		r.Goals = append(r.Goals, Goal{Name: "GET /v1/posts/{id} warm: gateway / nginx throughput", Value: n.GatewayToNginx, Target: "≥ 0.8",
			Met: n.GatewayToNginx >= 0.8, Detail: fmt.Sprintf("%.0f vs %.0f ok/s with %d concurrent requests; CPU per read: gateway %.3f ms, nginx %.3f ms",
				c.Post.Goodput, n.Post.Goodput, c.Workers, n.GatewayCPUMs, n.NginxCPUMs)})
	}
	if c := r.Ceiling; c != nil && c.GatewayReadToHealthzCPU > 0 {
		r.Goals = append(r.Goals, Goal{Name: "gateway CPU per proxied warm read / per GET /healthz", Value: c.GatewayReadToHealthzCPU, Target: "≤ 2",
			Met: c.GatewayReadToHealthzCPU <= 2, Detail: fmt.Sprintf("%.3f vs %.3f ms of the gateway process per request",
				c.PostCPU.PerRequestMs["gateway"], c.HealthzCPU.PerRequestMs["gateway"])})
	}
}

// Write writes results.json and summary.md into dir.
func (r *Report) Write(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results.json: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "summary.md"))
	if err != nil {
		return fmt.Errorf("write summary.md: %w", err)
	}
	if err := r.Markdown(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write summary.md: %w", err)
	}
	return nil
}

// Markdown writes the tables of the run.
func (r *Report) Markdown(w io.Writer) error {
	p := &printer{w: w}
	m := r.Machine
	p.f("## Load run %s\n\n", r.RunID)
	p.f("- target %s, %s → %s\n", r.Target, r.Started.UTC().Format(time.RFC3339), r.Finished.UTC().Format(time.RFC3339))
	p.f("- machine: %d cores (GOMAXPROCS %d), %s/%s, %s; load average at start %.2f %.2f %.2f, at end %.2f %.2f %.2f — the load generator runs on the same machine as the stack\n",
		m.Cores, m.GOMAXPROCS, m.OS, m.Arch, m.GoVersion, m.LoadAvgStart[0], m.LoadAvgStart[1], m.LoadAvgStart[2], m.LoadAvgEnd[0], m.LoadAvgEnd[1], m.LoadAvgEnd[2])
	s := r.Seed
	p.f("- seeded %d users, %d posts (%d ready, %d failed) from %d pictures of %s, %d comments, in %.1f s\n\n",
		s.Users, s.Posts, s.Ready, s.Failed, s.Pictures, s.PicturesFrom, s.Comments, s.TookS)

	if len(r.Goals) > 0 {
		p.f("### Goals\n\n| goal | measured | target | met | detail |\n|---|---:|---|---|---|\n")
		for _, g := range r.Goals {
			p.f("| %s | %.2f | %s | %s | %s |\n", g.Name, g.Value, g.Target, yes(g.Met), g.Detail)
		}
		p.f("\n")
	}
	if x := r.Mix; x != nil {
		p.f("### Mix: %.3g requests/s for %.0f s\n\n", x.Rate, x.DurationS)
		p.f("| route | share | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | statuses |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, rt := range x.Routes {
			p.routeRow(rt.Route, fmt.Sprintf("%.0f%%", 100*rt.Share), rt.Summary)
		}
		p.routeRow("**all**", "", x.Total)
		p.f("\n")
	}
	if u := r.MixCPU; u != nil {
		p.cpuTable("CPU during the mix", *u)
	}
	if u := r.Uploads; u != nil {
		p.f("### Upload → ready (%dx%d JPEG, %.1f MB, %.3g uploads/s, %s phase)\n\n", u.Image.Width, u.Image.Height, float64(u.Image.Bytes)/1e6, u.Rate, u.Phase)
		p.f("| | p50 ms | p95 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|\n")
		p.f("| upload request (until 202) | %.0f | %.0f | %.0f | %.0f |\n", u.UploadMs.P50, u.UploadMs.P95, u.UploadMs.P99, u.UploadMs.Max)
		p.f("| 202 → ready | %.0f | %.0f | %.0f | %.0f |\n", u.ReadyAfter202Ms.P50, u.ReadyAfter202Ms.P95, u.ReadyAfter202Ms.P99, u.ReadyAfter202Ms.Max)
		p.f("| send → ready | %.0f | %.0f | %.0f | %.0f |\n", u.ReadyAfterSendMs.P50, u.ReadyAfterSendMs.P95, u.ReadyAfterSendMs.P99, u.ReadyAfterSendMs.Max)
		if u.Compute != nil {
			p.f("| thumbnail compute alone | %.0f | | | |\n", u.Compute.Ms)
		}
		p.f("\nThe first upload of the phase, with no large photo queued before it, was ready %.0f ms after its 202. ", u.FirstReadyAfterMs)
		p.f("%.2f uploads/s became ready (first sent to last ready). ", u.ReadyPerS)
		p.f("%d sent, %d accepted, %d ready, %d failed, %d not ready in time; ", u.Sent, u.Accepted, u.Ready, u.Failed, u.TimedOut)
		if u.WaitS > 0 {
			p.f("%d reads of processing posts, each asking the server to wait up to %.0f s for the post to move on (`Prefer: wait`), %d of them waited for (ready is when such an answer arrived); a read not waited for was followed by the next after %.0f ms or 5%% of the time waited so far, whichever is longer.",
				u.Polls, u.WaitS, u.Waited, u.PollMs)
		} else {
			p.f("%d reads of processing posts, every %.0f ms or 5%% of the time waited so far, whichever is longer (the resolution of ready).", u.Polls, u.PollMs)
		}
		if u.Compute != nil {
			p.f(" Compute: %s (`%s`).", u.Compute.Method, u.Compute.Command)
		}
		p.f("\n\n")
		if b := u.Stages; b != nil {
			p.stages(*b)
		}
	}
	if u := r.UploadsCPU; u != nil {
		p.cpuTable("CPU during the upload phase (per request = per upload)", *u)
		if per := u.StackPerRequestMs(); per > 0 {
			p.f("The stack spent %.0f ms of CPU per upload (the thumbnailer %.0f ms; reads of processing posts included): "+
				"%d cores can finish at most %.2f uploads/s with nothing else running; %.2f/s finished here.\n\n",
				per, u.PerRequestMs["thumbnailer"], runtime.NumCPU(), float64(runtime.NumCPU())*1000/per, r.Uploads.ReadyPerS)
		}
	}
	if c := r.Ceiling; c != nil {
		p.f("### Ceiling: closed loops of %d concurrent requests, %.0f s each\n\n", c.Workers, c.DurationS)
		if c.Rounds > 1 {
			p.f("Each loop of the comparison ran in %d rounds of %.1f s, the loops taking turns (each first in as many rounds), so every ratio compares the same minutes of the machine. The ratios of each round alone:\n\n", c.Rounds, c.DurationS/float64(c.Rounds))
			p.f("| round | warm ÷ /healthz | gateway ÷ nginx | gateway CPU per read ÷ per /healthz |\n|---:|---:|---:|---:|\n")
			for i, r := range c.ByRound {
				p.f("| %d | %.2f | %s | %s |\n", i+1, r.PostToHealthz, optRatio(r.GatewayToNginx), optRatio(r.GatewayCPU))
			}
			p.f("\nThe figures below are of all rounds together.\n\n")
		}
		p.f("| route | ok/s | p50 ms | p99 ms | errors |\n|---|---:|---:|---:|---:|\n")
		p.f("| GET /healthz (gateway's own constant JSON) | %.0f | %.2f | %.2f | %d |\n", c.Healthz.Goodput, c.Healthz.LatencyMs.P50, c.Healthz.LatencyMs.P99, c.Healthz.Errors)
		p.f("| GET /v1/posts/{id}, warm caches | %.0f | %.2f | %.2f | %d |\n", c.Post.Goodput, c.Post.LatencyMs.P50, c.Post.LatencyMs.P99, c.Post.Errors)
		if n := c.Nginx; n != nil {
			p.f("| GET /v1/posts/{id}, warm caches, through nginx instead of the gateway | %.0f | %.2f | %.2f | %d |\n", n.Post.Goodput, n.Post.LatencyMs.P50, n.Post.LatencyMs.P99, n.Post.Errors)
		}
		p.f("\n")
		if c.HealthzCPU != nil {
			p.cpuTable("CPU during the /healthz loop", *c.HealthzCPU)
		}
		if c.PostCPU != nil {
			p.cpuTable("CPU during the warm GET /v1/posts/{id} loop", *c.PostCPU)
		}
		if c.GatewayReadToHealthzCPU > 0 {
			p.f("**Gateway CPU per proxied warm read ÷ per /healthz: %.3f ÷ %.3f ms = %.2f×** (goal ≤ 2×).\n\n",
				c.PostCPU.PerRequestMs["gateway"], c.HealthzCPU.PerRequestMs["gateway"], c.GatewayReadToHealthzCPU)
		}
		if n := c.Nginx; n != nil {
			log := "off"
			if n.AccessLog {
				log = "on (one line per request, as the gateway's access log)"
			}
			p.f("%s as the gateway's peer: worker_processes %s (%d workers), access log %s, upstream %s with keepalive 32, HTTP/1.1, same route, same Authorization header, same rotation over the posts.\n\n",
				n.Version, n.WorkerProcesses, n.Workers, log, n.Upstream)
			p.f("**Gateway ÷ nginx, warm GET /v1/posts/{id}: %.0f ÷ %.0f ok/s = %.2f×** (goal ≥ 0.8×). CPU ms per read of the proxy: gateway %.3f, nginx %.3f (%.2f×); of the post service behind it: %.3f via the gateway, %.3f via nginx.\n\n",
				c.Post.Goodput, n.Post.Goodput, n.GatewayToNginx, n.GatewayCPUMs, n.NginxCPUMs, safeDiv(n.GatewayCPUMs, n.NginxCPUMs),
				perReq(c.PostCPU, "post"), perReq(n.PostCPU, "post"))
			if n.PostCPU != nil {
				p.cpuTable("CPU during the warm GET /v1/posts/{id} loop through nginx", *n.PostCPU)
			}
		}
		if len(c.Images) > 0 {
			p.f("Image bytes, closed loops of %d concurrent requests: `GET /v1/posts/{id}/image?size=…` of post %s through the gateway (post streams it from its blob store) vs the same bytes as a static file of nginx (sendfile):\n\n", c.Workers, c.Images[0].PostID)
			p.f("| size | bytes | gateway ok/s | gateway MB/s | nginx ok/s | nginx MB/s | gateway ÷ nginx | CPU ms/req gateway | CPU ms/req post | CPU ms/req post.daprd | CPU ms/req nginx | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
			for _, im := range c.Images {
				nok, nmb, ratio, ncpu, nerr := "", "", "", "", 0
				if im.Nginx != nil {
					nok, nmb, ratio = fmt.Sprintf("%.0f", im.Nginx.Goodput), fmt.Sprintf("%.0f", im.NginxMBps), fmt.Sprintf("%.2f", im.GatewayToNginx)
					ncpu, nerr = fmt.Sprintf("%.3f", perReq(im.NginxCPU, "nginx")), im.Nginx.Errors
				}
				p.f("| %s | %d | %.0f | %.0f | %s | %s | %s | %.3f | %.3f | %.3f | %s | %d |\n", im.Size, im.Bytes, im.Gateway.Goodput, im.GatewayMBps,
					nok, nmb, ratio, perReq(im.GatewayCPU, "gateway"), perReq(im.GatewayCPU, "post"), perReq(im.GatewayCPU, "post.daprd"), ncpu, im.Gateway.Errors+nerr)
			}
			p.f("\n")
		}
	}
	if g := r.GRPC; g != nil {
		p.f("### gRPC %s, %d sequential calls each\n\n", g.Method, g.Calls)
		p.f("| path | p50 ms | p90 ms | p99 ms | mean ms |\n|---|---:|---:|---:|---:|\n")
		p.f("| direct to the user app | %.3f | %.3f | %.3f | %.3f |\n", g.DirectMs.P50, g.DirectMs.P90, g.DirectMs.P99, g.DirectMs.Mean)
		p.f("| through two sidecars | %.3f | %.3f | %.3f | %.3f |\n\n", g.SidecarsMs.P50, g.SidecarsMs.P90, g.SidecarsMs.P99, g.SidecarsMs.Mean)
		p.f("The sidecars' share of the p50: %.0f%%.\n\n", 100*g.SidecarShareP50)
	}
	if a := r.Argon2; a != nil {
		p.f("### Password hashing (argon2id m=%d KiB, t=%d, p=%d)\n\n", a.MemoryKiB, a.Iterations, a.Lanes)
		p.f("%.1f ms per hash on one goroutine; %.1f hashes/s on %d goroutines: the ceiling of logins per second.\n\n", a.OneCoreMs, a.PerSecond, a.Goroutines)
	}
	names := make([]string, 0, len(r.Skipped))
	for name := range r.Skipped {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p.f("- not measured: %s — %s\n", name, r.Skipped[name])
	}
	return p.err
}

// perReq is u's CPU ms per request of process name, 0 without u.
func perReq(u *procs.Usage, name string) float64 {
	if u == nil {
		return 0
	}
	return u.PerRequestMs[name]
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "**no**"
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) routeRow(name, share string, s stats.Summary) {
	p.f("| %s | %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %d | %s |\n", name, share, s.Requests, s.Throughput,
		s.LatencyMs.P50, s.LatencyMs.P90, s.LatencyMs.P99, s.LatencyMs.Max, s.Errors, statuses(s.Status))
}

// stages writes upload → ready stage by stage: each stage's distribution,
// then the uploads at the p50, p95 and max of 202 → ready taken apart.
func (p *printer) stages(b stages.Breakdown) {
	p.f("Upload → ready stage by stage: the thumbnailer's %q log lines of %d of the %d ready uploads (from %s).\n\n", stages.Message, b.Matched, b.Uploads, b.Source)
	p.f("| stage | p50 ms | p95 ms | max ms | what it is |\n|---|---:|---:|---:|---|\n")
	for _, s := range b.Stages {
		p.f("| %s | %.0f | %.0f | %.0f | %s |\n", s.Name, s.Ms.P50, s.Ms.P95, s.Ms.Max, s.Meaning)
	}
	p.f("\nPercentiles of the stages do not add up; one upload's do. The uploads at the p50, p95 and max of 202 → ready:\n\n")
	p.f("| upload | 202 → ready ms | queued | fetch | generate | store | report | thumbnailer total | rest |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, e := range b.Examples {
		p.f("| %s (post %s) | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n", e.Label, e.PostID, e.ReadyAfterMs,
			e.QueuedMs, e.FetchMs, e.GenerateMs, e.StoreMs, e.ReportMs, e.ThumbnailerMs, e.RestMs)
	}
	p.f("\n")
}

// cpuTable lists the processes that used at least 1% of a core.
func (p *printer) cpuTable(title string, u procs.Usage) {
	p.f("%s (%.1f s; the whole machine had %.2f of %d cores busy):\n\n", title, u.WallS, u.CoresBusy, runtime.NumCPU())
	p.f("| process | CPU s | cores | CPU ms per request |\n|---|---:|---:|---:|\n")
	for _, name := range u.Top() {
		s := u.ByProcessS[name]
		if u.WallS > 0 && s/u.WallS < 0.01 {
			continue
		}
		per := ""
		if u.Requests > 0 {
			per = fmt.Sprintf("%.3f", u.PerRequestMs[name])
		}
		p.f("| %s | %.2f | %.2f | %s |\n", name, s, s/max(u.WallS, 1e-9), per)
	}
	p.f("\n")
}

// statuses formats a status histogram as "200×12 404×1".
func statuses(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// optRatio formats a ratio, or "–" when it was not measured.
func optRatio(v float64) string {
	if v <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}
