// Package uploads measures upload→ready: large photos are uploaded at a
// set rate (paced by vegeta) and each accepted post is polled until its
// status is ready. The thumbnail compute time of the same picture comes
// from the thumbnailer's own benchmark (ComputeTime), for the ratio.
package uploads

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"pixshare/tools/load/internal/api"
	"pixshare/tools/load/internal/attack"
	"pixshare/tools/load/internal/stats"
)

// Config describes the upload phase.
type Config struct {
	Base     string
	Rate     float64
	Duration time.Duration
	// Poll is the shortest interval between reads of a processing post
	// that the server did not wait for (see NextPoll): then the
	// resolution of the measured ready time.
	Poll time.Duration
	// Wait, when positive, is how long each read of a processing post
	// asks the server to wait for it to move on ("Prefer: wait"); reads
	// the server waited for follow each other at once, so the ready time
	// is when the answer arrived. 0 only polls.
	Wait         time.Duration
	ReadyTimeout time.Duration
	Image        []byte
	Users        []api.User
	RunID        string
	Progress     io.Writer
	// Clock zero of the run, so upload samples share the mix's time axis.
	Zero time.Time
}

// Sample is one upload.
type Sample struct {
	// At is when the upload was sent, from Config.Zero.
	At time.Duration
	// Upload is the latency of POST /v1/posts (until its 202).
	Upload time.Duration
	Code   int
	// Outcome is ready, failed, timeout, or the upload's error.
	Outcome string
	// ReadyAfter is from the 202 to the post seen ready: the answer of a
	// read the server waited for, or the sending of the first read that
	// showed ready.
	ReadyAfter time.Duration
	// PostID is the accepted post ("" when the upload was not accepted):
	// the thumbnailer's log lines are matched to uploads by it.
	PostID string
}

// MarshalJSON writes the times in milliseconds.
func (s Sample) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		At         float64 `json:"sent_at_ms"`
		Upload     float64 `json:"upload_ms"`
		Code       int     `json:"code"`
		Outcome    string  `json:"outcome"`
		ReadyAfter float64 `json:"ready_after_202_ms"`
		PostID     string  `json:"post_id,omitempty"`
	}{stats.Ms(s.At), stats.Ms(s.Upload), s.Code, s.Outcome, stats.Ms(s.ReadyAfter), s.PostID})
}

// Result is the phase's outcome.
type Result struct {
	Rate     float64 `json:"rate_per_s"`
	Sent     int     `json:"sent"`
	Accepted int     `json:"accepted"`
	Ready    int     `json:"ready"`
	Failed   int     `json:"failed"`
	TimedOut int     `json:"timed_out"`
	// UploadMs is the latency of the upload requests that were accepted.
	UploadMs stats.Latency `json:"upload_ms"`
	// ReadyAfter202Ms is 202 → ready; ReadyAfterSendMs adds the upload.
	ReadyAfter202Ms  stats.Latency  `json:"ready_after_202_ms"`
	ReadyAfterSendMs stats.Latency  `json:"ready_after_send_ms"`
	Status           map[string]int `json:"status"`
	// PollMs is the shortest interval between reads of a processing post
	// that the server did not wait for; later reads wait 5% of the time
	// elapsed (NextPoll). Polls counts every read.
	PollMs float64 `json:"poll_interval_ms"`
	Polls  int     `json:"polls"`
	// WaitS is what each read asked the server to wait (0: none asked);
	// Waited counts the reads it waited for.
	WaitS  float64 `json:"wait_s"`
	Waited int     `json:"waited_reads"`
	// ReadyPerS is how many uploads became ready per second, from the
	// first upload sent to the last post ready: the pipeline's throughput
	// (below Rate, a queue grew).
	ReadyPerS float64 `json:"ready_per_s"`
	// FirstReadyAfterMs is 202 → ready of the first upload of the phase:
	// no large photo was queued before it.
	FirstReadyAfterMs float64 `json:"first_ready_after_202_ms"`
	// Samples are the uploads in the order they were sent.
	Samples []Sample `json:"samples"`
}

// Run uploads cfg.Image at cfg.Rate for cfg.Duration and waits (up to
// cfg.ReadyTimeout after the last upload) for every accepted post.
func Run(ctx context.Context, c *api.Client, cfg Config) (Result, error) {
	if len(cfg.Users) == 0 {
		return Result{}, fmt.Errorf("uploads: no users")
	}
	body, ct, err := api.UploadBody(cfg.Image, "Upload-to-ready probe #loadprobe", []string{"loadprobe"})
	if err != nil {
		return Result{}, err
	}
	tokens := map[string]string{}
	for _, u := range cfg.Users {
		tokens[u.ID] = u.Token
	}
	var (
		seq   atomic.Uint64
		reads readCounts
	)
	targeter := func(t *vegeta.Target) error {
		n := seq.Add(1)
		u := cfg.Users[int(n)%len(cfg.Users)]
		*t = vegeta.Target{Method: http.MethodPost, URL: strings.TrimRight(cfg.Base, "/") + "/v1/posts", Body: body,
			Header: http.Header{
				"Authorization":   {"Bearer " + u.Token},
				"Content-Type":    {ct},
				"Idempotency-Key": {fmt.Sprintf("ld-%s-big-%d", cfg.RunID, n)},
			}}
		return nil
	}

	var (
		mu      sync.Mutex
		samples []Sample
		wg      sync.WaitGroup
	)
	pollCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	record := func(s Sample) {
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
	}
	_, err = attack.Run(ctx, attack.Options{
		Name: "uploads", Rate: cfg.Rate, Duration: cfg.Duration, Targeter: targeter,
		MaxBody: 64 << 10, Timeout: 2 * time.Minute, Progress: cfg.Progress,
	}, func(r *vegeta.Result) {
		s := Sample{At: r.Timestamp.Sub(cfg.Zero), Upload: r.Latency, Code: int(r.Code)}
		if r.Code != http.StatusAccepted {
			s.Outcome = "upload " + strings.TrimSpace(r.Error)
			record(s)
			return
		}
		var p struct {
			ID       string `json:"id"`
			AuthorID string `json:"author_id"`
		}
		if err := json.Unmarshal(r.Body, &p); err != nil || p.ID == "" {
			s.Outcome = "upload answer without a post id"
			record(s)
			return
		}
		accepted := r.End()
		s.PostID = p.ID
		wg.Go(func() {
			s.Outcome, s.ReadyAfter = poll(pollCtx, c, tokens[p.AuthorID], p.ID, accepted, cfg, &reads)
			record(s)
		})
	})
	wg.Wait()
	res := summarize(samples, cfg)
	res.Polls, res.Waited = int(reads.sent.Load()), int(reads.waited.Load())
	if err != nil {
		return res, fmt.Errorf("uploads: %w", err)
	}
	return res, nil
}

// poll reads the post until it is ready or failed, or the timeout passes.
//
// Each read asks the server to wait for the post to move on (cfg.Wait).
// An answer the server waited for came when the post changed, so the ready
// time is when it arrived, and the next read goes at once. A read the
// server did not wait for (an older server, or too many reads waiting
// there) is followed by the next after NextPoll, so a backlog of slow
// posts does not flood the stack with reads (which would slow the pipeline
// being measured); the ready time is then when the first read showing
// ready was sent: the post was ready then, and was not at the previous
// read.
func poll(ctx context.Context, c *api.Client, token, id string, accepted time.Time, cfg Config, reads *readCounts) (string, time.Duration) {
	deadline := accepted.Add(cfg.ReadyTimeout)
	for {
		sent := time.Now()
		reads.sent.Add(1)
		var (
			p      api.Post
			waited bool
			err    error
		)
		if cfg.Wait > 0 {
			p, waited, err = c.WaitPost(ctx, token, id, min(cfg.Wait, time.Until(deadline)))
		} else {
			p, err = c.GetPost(ctx, token, id)
		}
		seen := sent
		if waited {
			seen = time.Now()
			reads.waited.Add(1)
		}
		if err == nil && p.Status == "ready" {
			return "ready", seen.Sub(accepted)
		}
		if err == nil && p.Status == "failed" {
			return "failed", seen.Sub(accepted)
		}
		if time.Now().After(deadline) {
			return "timeout", seen.Sub(accepted)
		}
		if waited {
			continue
		}
		select {
		case <-ctx.Done():
			return "timeout", sent.Sub(accepted)
		case <-time.After(time.Until(sent.Add(NextPoll(cfg.Poll, sent.Sub(accepted))))):
		}
	}
}

// readCounts counts the reads of processing posts, and those the server
// waited for.
type readCounts struct{ sent, waited atomic.Int64 }

// NextPoll is the wait before the next read of a post that has been
// processing for elapsed: floor, or 5% of elapsed once that is longer, so
// the ready time is known to within max(floor, 5%).
func NextPoll(floor, elapsed time.Duration) time.Duration {
	return max(floor, elapsed/20)
}

func summarize(samples []Sample, cfg Config) Result {
	samples = slices.Clone(samples)
	slices.SortStableFunc(samples, func(a, b Sample) int { return cmp.Compare(a.At, b.At) })
	r := Result{Rate: cfg.Rate, Sent: len(samples), Status: map[string]int{}, PollMs: stats.Ms(cfg.Poll), WaitS: cfg.Wait.Seconds(), Samples: samples}
	var up, after, total []time.Duration
	for _, s := range samples {
		r.Status[strconv.Itoa(s.Code)]++
		if s.Code != http.StatusAccepted {
			continue
		}
		r.Accepted++
		up = append(up, s.Upload)
		switch s.Outcome {
		case "ready":
			r.Ready++
			after = append(after, s.ReadyAfter)
			total = append(total, s.Upload+s.ReadyAfter)
		case "failed":
			r.Failed++
		default:
			r.TimedOut++
		}
	}
	var first, last time.Duration = -1, 0
	for _, s := range samples {
		if s.Outcome == "ready" {
			if first < 0 || s.At < first {
				first = s.At
				r.FirstReadyAfterMs = stats.Ms(s.ReadyAfter)
			}
			last = max(last, s.At+s.Upload+s.ReadyAfter)
		}
	}
	if r.Ready > 0 && last > first {
		r.ReadyPerS = float64(r.Ready) / (last - first).Seconds()
	}
	r.UploadMs = stats.Distribution(up)
	r.ReadyAfter202Ms = stats.Distribution(after)
	r.ReadyAfterSendMs = stats.Distribution(total)
	return r
}

// Compute is the thumbnail compute time of one picture.
type Compute struct {
	Method  string  `json:"method"`
	Command string  `json:"command"`
	Ms      float64 `json:"ms_per_picture"`
}

// ComputeTime runs the thumbnailer's BenchmarkGenerate (decode, clean
// original and every size: the whole job minus blob I/O and messaging)
// on the picture at imagePath, in the workers module at workersDir.
func ComputeTime(ctx context.Context, workersDir, imagePath string, iterations int) (Compute, error) {
	dir, err := os.MkdirTemp("", "pixshare-compute-")
	if err != nil {
		return Compute{}, fmt.Errorf("compute: %w", err)
	}
	defer os.RemoveAll(dir)
	name := filepath.Base(imagePath)
	if err := os.Symlink(imagePath, filepath.Join(dir, name)); err != nil {
		return Compute{}, fmt.Errorf("compute: %w", err)
	}
	args := []string{"test", "-run", "^$", "-bench", "^BenchmarkGenerate$", "-benchtime", strconv.Itoa(iterations) + "x", "-count", "1", "./internal/adapters/thumbnail"}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = workersDir
	cmd.Env = append(os.Environ(), "PIXSHARE_BENCH_IMAGES="+dir)
	out, err := cmd.CombinedOutput()
	shown := fmt.Sprintf("cd %s && PIXSHARE_BENCH_IMAGES=<dir with %s> go %s", workersDir, name, strings.Join(args, " "))
	if err != nil {
		return Compute{}, fmt.Errorf("compute: %s: %w\n%s", shown, err, out)
	}
	ns, err := NsPerOp(string(out), "BenchmarkGenerate/")
	if err != nil {
		return Compute{}, fmt.Errorf("compute: %w\n%s", err, out)
	}
	return Compute{Method: "BenchmarkGenerate of workers/internal/adapters/thumbnail on the same picture, in-process, after the load",
		Command: shown, Ms: ns / 1e6}, nil
}

// NsPerOp returns the mean ns/op of the benchmark lines of go test output
// whose name starts with prefix.
func NsPerOp(output, prefix string) (float64, error) {
	var sum float64
	n := 0
	sc := bufio.NewScanner(strings.NewReader(output))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], prefix) {
			continue
		}
		for i := 2; i+1 < len(f); i++ {
			if f[i+1] == "ns/op" {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					return 0, fmt.Errorf("benchmark line %q: %w", sc.Text(), err)
				}
				sum += v
				n++
			}
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("no %s… benchmark result in the output", prefix)
	}
	return sum / float64(n), nil
}
