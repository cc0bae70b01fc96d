package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pixshare/tools/load/internal/procs"
	"pixshare/tools/load/internal/refs"
	"pixshare/tools/load/internal/stages"
	"pixshare/tools/load/internal/stats"
	"pixshare/tools/load/internal/uploads"
)

func TestParseLoadAvg(t *testing.T) {
	t.Parallel()
	got, err := ParseLoadAvg("8.85 11.46 12.38 3/512 4242\n")
	if err != nil {
		t.Fatal(err)
	}
	if got != [3]float64{8.85, 11.46, 12.38} {
		t.Fatalf("got %v", got)
	}
	for _, bad := range []string{"", "1 2", "a b c"} {
		if _, err := ParseLoadAvg(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func sample() *Report {
	r := &Report{Tool: "pixshare/tools/load", RunID: "abc", Target: "http://127.0.0.1:8080",
		Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Finished: time.Date(2025, 1, 2, 3, 5, 5, 0, time.UTC),
		Flags: map[string]string{"rate": "50"}, Skipped: map[string]string{"grpc": "no tokens"}}
	sum := stats.Summarize([]stats.Sample{{Latency: 12 * time.Millisecond, Code: 200}, {Latency: 30 * time.Millisecond, Code: 404, Error: "404 Not Found"}}, time.Second)
	r.Mix = &Mix{Weights: "feed=1", Rate: 50, DurationS: 20, Total: sum, Routes: []Route{{Route: "feed", Share: 1, Summary: sum}}}
	r.Uploads = &Uploads{Phase: "during", Result: uploads.Result{Rate: 2, Sent: 4, Accepted: 4, Ready: 4,
		ReadyAfter202Ms: stats.Latency{P50: 900, P95: 1200}}, Compute: &uploads.Compute{Ms: 1000, Method: "bench", Command: "go test"}}
	r.Uploads.Image.Width, r.Uploads.Image.Height = 4000, 3000
	r.Ceiling = &refs.Ceiling{Workers: 8, Healthz: stats.Summary{Goodput: 4000}, Post: stats.Summary{Goodput: 1000}, RatioPosts: 0.25}
	r.AddGoals()
	return r
}

func TestGoals(t *testing.T) {
	t.Parallel()
	r := sample()
	if len(r.Goals) != 2 {
		t.Fatalf("goals %+v", r.Goals)
	}
	up, ceil := r.Goals[0], r.Goals[1]
	if up.Value != 1.2 || !up.Met {
		t.Errorf("upload goal %+v: want 1.2, met", up)
	}
	if ceil.Value != 0.25 || ceil.Met {
		t.Errorf("ceiling goal %+v: want 0.25, missed", ceil)
	}
	r.Uploads.Compute = nil
	r.Ceiling = nil
	r.AddGoals()
	if len(r.Goals) != 0 {
		t.Fatalf("goals without measurements: %+v", r.Goals)
	}
}

func TestWriteJSONAndMarkdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := sample()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	routes := back["mix"].(map[string]any)["routes"].([]any)
	feed := routes[0].(map[string]any)
	// The route's summary is inlined next to its name.
	if feed["route"] != "feed" || feed["requests"] != 2.0 || feed["errors"] != 1.0 {
		t.Fatalf("route JSON %v", feed)
	}
	if feed["latency_ms"].(map[string]any)["p99"] != 30.0 || feed["status"].(map[string]any)["404"] != 1.0 {
		t.Fatalf("route JSON %v", feed)
	}
	up := back["uploads"].(map[string]any)
	if up["ready_after_202_ms"].(map[string]any)["p95"] != 1200.0 || up["phase"] != "during" {
		t.Fatalf("uploads JSON %v", up)
	}
	if _, ok := up["samples"]; !ok {
		t.Fatal("the uploads' samples are missing from the JSON")
	}
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| feed | 100% | 2 |", "200×1 404×1", "| 202 → ready | 900 | 1200 |", "not measured: grpc — no tokens", "**no**"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
}

func TestMarkdownOfAnEmptyReport(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := (&Report{}).Markdown(&buf); err != nil {
		t.Fatal(err)
	}
}

func TestNginxAndStagesInTheReport(t *testing.T) {
	t.Parallel()
	r := sample()
	cpu := func(gateway, nginx, post float64) *procs.Usage {
		return &procs.Usage{WallS: 5, Requests: 1000, ByProcessS: map[string]float64{"gateway": gateway, "nginx": nginx, "post": post},
			PerRequestMs: map[string]float64{"gateway": gateway, "nginx": nginx, "post": post}}
	}
	c := r.Ceiling
	c.Post.Goodput = 1800
	c.HealthzCPU, c.PostCPU = cpu(0.1, 0, 0), cpu(0.25, 0, 0.2)
	c.GatewayReadToHealthzCPU = 2.5
	c.Nginx = &refs.NginxPeer{Version: "nginx/1.22.1", WorkerProcesses: "auto", Workers: 2, AccessLog: true, Upstream: "127.0.0.1:8082",
		Post: stats.Summary{Goodput: 2000}, PostCPU: cpu(0, 0.05, 0.2), GatewayToNginx: 0.9, GatewayCPUMs: 0.25, NginxCPUMs: 0.05}
	ng := stats.Summary{Goodput: 3000}
	c.Images = []refs.ImageLoop{{Size: "large", Bytes: 200_000, Gateway: stats.Summary{Goodput: 1000}, GatewayMBps: 200, GatewayCPU: cpu(0.3, 0, 0.4),
		Nginx: &ng, NginxMBps: 600, NginxCPU: cpu(0, 0.02, 0), GatewayToNginx: 1.0 / 3}}
	r.Uploads.Stages = &stages.Breakdown{Source: "/d/stack.log", Uploads: 4, Matched: 4,
		Stages:   []stages.Stage{{Name: stages.Queued, Meaning: "m", Ms: stats.Latency{P50: 40, P95: 300, Max: 320}}},
		Examples: []stages.Example{{Label: "p95", PostID: "p9", ReadyAfterMs: 1200, QueuedMs: 300, GenerateMs: 700, ThumbnailerMs: 1100, RestMs: 100}}}
	r.AddGoals()
	if len(r.Goals) != 4 {
		t.Fatalf("goals %+v", r.Goals)
	}
	if g := r.Goals[2]; g.Value != 0.9 || !g.Met || !strings.Contains(g.Detail, "1800 vs 2000 ok/s") {
		t.Errorf("nginx goal %+v", g)
	}
	if g := r.Goals[3]; g.Value != 2.5 || g.Met || !strings.Contains(g.Detail, "0.250 vs 0.100 ms") {
		t.Errorf("CPU goal %+v", g)
	}
	var buf bytes.Buffer
	if err := r.Markdown(&buf); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"**Gateway ÷ nginx, warm GET /v1/posts/{id}: 1800 ÷ 2000 ok/s = 0.90×** (goal ≥ 0.8×)",
		"gateway 0.250, nginx 0.050 (5.00×)",
		"**Gateway CPU per proxied warm read ÷ per /healthz: 0.250 ÷ 0.100 ms = 2.50×** (goal ≤ 2×)",
		"worker_processes auto (2 workers), access log on",
		"| large | 200000 | 1000 | 200 | 3000 | 600 | 0.33 | 0.300 | 0.400 | 0.000 | 0.020 | 0 |",
		"4 of the 4 ready uploads (from /d/stack.log)",
		"| queued | 40 | 300 | 320 | m |",
		"| p95 (post p9) | 1200 | 300 | 0 | 700 | 0 | 0 | 1100 | 100 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
}
