// Command load measures a running Pixshare through its public API: it
// seeds users, follows, posts and comments, drives a weighted read-heavy
// mix at a fixed rate for a fixed time (vegeta, open model), measures
// upload→ready of large photos beside the thumbnail compute time, and
// takes the reference points the numbers are read against. It writes
// results.json, summary.md and PNG plots into -out.
//
// The stack under load must run without rate limits:
//
//	RATE_LIMIT_ENABLED=false make run
//	go run ./tools/load -duration 20s -ceiling
//
// See docs/benchmarks.md.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"pixshare/platform/phototest"
	"pixshare/tools/load/internal/api"
	"pixshare/tools/load/internal/attack"
	"pixshare/tools/load/internal/mix"
	"pixshare/tools/load/internal/nginx"
	"pixshare/tools/load/internal/plots"
	"pixshare/tools/load/internal/procs"
	"pixshare/tools/load/internal/refs"
	"pixshare/tools/load/internal/report"
	"pixshare/tools/load/internal/seed"
	"pixshare/tools/load/internal/stages"
	"pixshare/tools/load/internal/stats"
	"pixshare/tools/load/internal/uploads"
)

type config struct {
	target          string
	users           int
	postsPerUser    int
	follows         int
	commentsPerPost int
	rate            float64
	duration        time.Duration
	mix             string
	images          string
	out             string
	uploadRate      float64
	uploadPhase     string
	uploadDuration  time.Duration
	largeImage      string
	poll            time.Duration
	wait            time.Duration
	readyTimeout    time.Duration
	compute         bool
	ceiling         bool
	ceilingDuration time.Duration
	ceilingWorkers  uint64
	ceilingRounds   int
	ceilingImages   []string
	nginx           string
	nginxInstall    bool
	nginxWorkers    string
	nginxAccessLog  bool
	postHTTP        string
	refs            bool
	refsDuration    time.Duration
	dataDir         string
	stackLog        string
	userGRPC        string
	gatewaySidecar  string
	postSidecar     string
	seedConcurrency int
	seed            uint64
	root            string
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// repoRoot is the nearest directory at or above the working directory
// holding go.work (the repository), or the working directory.
func repoRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}

func parseFlags(args []string) (config, error) {
	root := repoRoot()
	images := os.Getenv("PIXSHARE_BENCH_IMAGES")
	if images == "" {
		images = filepath.Join(root, "testdata", "photos")
	}
	cfg := config{root: root}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.StringVar(&cfg.target, "target", "http://127.0.0.1:8080", "the gateway")
	fs.IntVar(&cfg.users, "users", 20, "users to register (unique names per run)")
	fs.IntVar(&cfg.postsPerUser, "posts-per-user", 3, "posts each seeded user uploads")
	fs.IntVar(&cfg.follows, "follows", 5, "how many others each seeded user follows")
	fs.IntVar(&cfg.commentsPerPost, "comments-per-post", 1, "comments on each seeded post")
	fs.Float64Var(&cfg.rate, "rate", 50, "requests per second of the mix")
	fs.DurationVar(&cfg.duration, "duration", 30*time.Second, "how long the mix runs")
	fs.StringVar(&cfg.mix, "mix", mix.DefaultMix, "route weights, route=weight,… (routes: "+strings.Join(mix.Routes, ", ")+")")
	fs.StringVar(&cfg.images, "images", images, "pictures to seed and upload in the mix (default $PIXSHARE_BENCH_IMAGES or testdata/photos)")
	fs.StringVar(&cfg.out, "out", "", "where to write results.json, summary.md and plots (default docs/benchmarks/<timestamp>)")
	fs.Float64Var(&cfg.uploadRate, "upload-rate", 2, "uploads per second of the large photo for upload→ready (0: skip)")
	fs.StringVar(&cfg.uploadPhase, "upload-phase", "after", "after: upload→ready runs on its own once the mix is done; during: beside the mix")
	fs.DurationVar(&cfg.uploadDuration, "upload-duration", 0, "how long large photos are uploaded (default: -duration)")
	fs.StringVar(&cfg.largeImage, "large-image", "", "the large photo (default: a photo-like 4000x3000 JPEG generated in a temporary directory)")
	fs.DurationVar(&cfg.wait, "wait", 20*time.Second, "how long each read of a processing post asks the server to wait for it to move on (Prefer: wait, whole seconds); 0 polls only")
	fs.DurationVar(&cfg.poll, "poll", 10*time.Millisecond, "shortest interval between reads of a processing post the server did not wait for; later reads wait 5% of the time waited (resolution of upload→ready)")
	fs.DurationVar(&cfg.readyTimeout, "ready-timeout", 2*time.Minute, "how long an upload may take to become ready")
	fs.BoolVar(&cfg.compute, "compute", true, "time the thumbnail compute of the large photo with the workers' BenchmarkGenerate after the load")
	fs.BoolVar(&cfg.ceiling, "ceiling", false, "also compare warm GET /v1/posts/{id} with GET /healthz (the gateway's constant JSON), each in a closed loop")
	fs.DurationVar(&cfg.ceilingDuration, "ceiling-duration", 5*time.Second, "length of each ceiling loop (all its rounds together)")
	fs.IntVar(&cfg.ceilingRounds, "ceiling-rounds", 5, "rounds the /healthz, warm-read and nginx loops run in, taking turns, so each ratio compares the same minutes")
	fs.Uint64Var(&cfg.ceilingWorkers, "ceiling-workers", 8, "concurrent requests of the ceiling loops")
	fs.Func("ceiling-images", "image sizes read in closed loops in the ceiling phase, through the gateway and from nginx's disk (default large,original; \"\" = none)", func(v string) error {
		cfg.ceilingImages = nil
		for _, size := range strings.Split(v, ",") {
			if size = strings.TrimSpace(size); size != "" {
				cfg.ceilingImages = append(cfg.ceilingImages, size)
			}
		}
		return nil
	})
	cfg.ceilingImages = []string{"large", "original"}
	fs.StringVar(&cfg.nginx, "nginx", "", "nginx binary of the ceiling's nginx peer (default: nginx on PATH or /usr/sbin/nginx; off: no nginx peer)")
	fs.BoolVar(&cfg.nginxInstall, "nginx-install", true, "install Debian's nginx package with apt-get when no nginx is found (as root)")
	fs.StringVar(&cfg.nginxWorkers, "nginx-workers", "auto", "nginx worker_processes (auto: one per core, as the gateway's GOMAXPROCS)")
	fs.BoolVar(&cfg.nginxAccessLog, "nginx-access-log", true, "nginx writes one access-log line per request, as the gateway does")
	fs.StringVar(&cfg.postHTTP, "post-http", "127.0.0.1:8082", "the post service's HTTP address, nginx's upstream (dapr.yaml HTTP_ADDR)")
	fs.BoolVar(&cfg.refs, "refs", true, "measure the gRPC and password-hash references (search SQL: make bench)")
	fs.DurationVar(&cfg.refsDuration, "refs-duration", 2*time.Second, "length of each reference measurement")
	fs.StringVar(&cfg.dataDir, "data", filepath.Join(root, ".data"), "the stack's data directory (tokens/, search.db)")
	fs.StringVar(&cfg.stackLog, "stack-log", "", "the launcher's log file, read for the thumbnailer's stage timings of upload→ready (default: <-data>/stack.log)")
	fs.StringVar(&cfg.userGRPC, "user-grpc", "127.0.0.1:50101", "the user app's own gRPC port (dapr.yaml appPort)")
	fs.StringVar(&cfg.gatewaySidecar, "gateway-sidecar", "127.0.0.1:50010", "the gateway sidecar's gRPC port (dapr.yaml daprGRPCPort)")
	fs.StringVar(&cfg.postSidecar, "post-sidecar", "127.0.0.1:50012", "the post sidecar's gRPC port: the gRPC reference calls user from there, as post does")
	fs.IntVar(&cfg.seedConcurrency, "seed-concurrency", 4, "requests in flight while seeding")
	fs.Uint64Var(&cfg.seed, "seed", 1, "random seed of the mix")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case cfg.users < 2:
		return cfg, errors.New("-users must be at least 2")
	case cfg.postsPerUser < 1:
		return cfg, errors.New("-posts-per-user must be at least 1")
	case cfg.rate <= 0 && cfg.duration > 0:
		return cfg, errors.New("-rate must be positive")
	case cfg.uploadRate < 0:
		return cfg, errors.New("-upload-rate must not be negative")
	case cfg.uploadPhase != "during" && cfg.uploadPhase != "after":
		return cfg, fmt.Errorf("-upload-phase must be during or after, got %q", cfg.uploadPhase)
	case cfg.wait < 0 || cfg.wait%time.Second != 0:
		return cfg, errors.New("-wait must be 0 or whole seconds")
	case cfg.poll <= 0:
		return cfg, errors.New("-poll must be positive")
	case cfg.ceilingWorkers < 1:
		return cfg, errors.New("-ceiling-workers must be at least 1")
	case cfg.ceilingRounds < 1:
		return cfg, errors.New("-ceiling-rounds must be at least 1")
	case cfg.nginxWorkers != "auto" && !positive(cfg.nginxWorkers):
		return cfg, fmt.Errorf("-nginx-workers must be auto or a positive count, got %q", cfg.nginxWorkers)
	}
	for _, size := range cfg.ceilingImages {
		if !slices.Contains(mix.Routes, "image_"+size) {
			return cfg, fmt.Errorf("-ceiling-images: unknown size %q", size)
		}
	}
	if _, err := mix.ParseWeights(cfg.mix); err != nil {
		return cfg, err
	}
	if cfg.uploadDuration == 0 {
		cfg.uploadDuration = cfg.duration
	}
	if cfg.stackLog == "" {
		cfg.stackLog = filepath.Join(cfg.dataDir, "stack.log")
	}
	if cfg.out == "" {
		cfg.out = filepath.Join(root, "docs", "benchmarks", time.Now().UTC().Format("20060102-150405"))
	}
	return cfg, nil
}

func positive(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

func flagMap(cfg config) map[string]string {
	return map[string]string{
		"target": cfg.target, "users": strconv.Itoa(cfg.users), "posts-per-user": strconv.Itoa(cfg.postsPerUser),
		"follows": strconv.Itoa(cfg.follows), "comments-per-post": strconv.Itoa(cfg.commentsPerPost),
		"rate": fmt.Sprint(cfg.rate), "duration": cfg.duration.String(), "mix": cfg.mix, "images": cfg.images,
		"upload-rate": fmt.Sprint(cfg.uploadRate), "upload-phase": cfg.uploadPhase, "upload-duration": cfg.uploadDuration.String(),
		"large-image": cfg.largeImage, "poll": cfg.poll.String(), "wait": cfg.wait.String(), "compute": strconv.FormatBool(cfg.compute),
		"ceiling": strconv.FormatBool(cfg.ceiling), "ceiling-duration": cfg.ceilingDuration.String(),
		"ceiling-workers": strconv.FormatUint(cfg.ceilingWorkers, 10), "ceiling-rounds": strconv.Itoa(cfg.ceilingRounds), "refs": strconv.FormatBool(cfg.refs),
		"ceiling-images": strings.Join(cfg.ceilingImages, ","), "nginx": cfg.nginx, "nginx-install": strconv.FormatBool(cfg.nginxInstall),
		"nginx-workers": cfg.nginxWorkers, "nginx-access-log": strconv.FormatBool(cfg.nginxAccessLog), "post-http": cfg.postHTTP,
		"refs-duration": cfg.refsDuration.String(), "seed": strconv.FormatUint(cfg.seed, 10), "stack-log": cfg.stackLog,
	}
}

// runner carries what the phases of a run share.
type runner struct {
	cfg    config
	runID  string
	client *api.Client
	rep    *report.Report
	data   seed.Data
	// stack is nil when the stack's processes were not found (no CPU
	// accounting then).
	stack *procs.Stack
	// zero is the time origin of the mix's samples.
	zero time.Time
	rec  *stats.Recorder
}

func run(ctx context.Context, cfg config) error {
	start := time.Now()
	r := &runner{cfg: cfg, runID: strconv.FormatInt(start.Unix(), 36), client: api.New(cfg.target), rec: stats.NewRecorder()}
	r.rep = &report.Report{Tool: "pixshare/tools/load", RunID: r.runID, Started: start, Target: cfg.target,
		Flags: flagMap(cfg), Machine: report.ThisMachine(), Skipped: map[string]string{}}

	if err := r.client.Do(ctx, http.MethodGet, "/readyz", "", nil, "", nil, http.StatusOK, nil); err != nil {
		return fmt.Errorf("the stack at %s is not ready (start it with RATE_LIMIT_ENABLED=false make run): %w", cfg.target, err)
	}
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", cfg.out, err)
	}
	logf("load: run %s against %s, results in %s", r.runID, cfg.target, cfg.out)
	if stack, err := procs.FindStack(portOf(cfg.gatewaySidecar)); err != nil {
		r.rep.Skipped["cpu accounting"] = err.Error()
	} else {
		r.stack = &stack
	}

	// nginx is found (or installed) before anything is measured: apt-get
	// must not run beside a phase.
	nginxBin := ""
	if cfg.ceiling {
		nginxBin = r.findNginx(ctx)
	}

	if err := r.seed(ctx); err != nil {
		return err
	}
	var upCfg uploads.Config
	var largePath string
	if cfg.uploadRate > 0 {
		path, cleanup, err := r.prepareUploads(&upCfg)
		if err != nil {
			return err
		}
		defer cleanup()
		largePath = path
	}
	upDone := make(chan error, 1)
	if cfg.uploadRate > 0 && cfg.uploadPhase == "during" {
		go func() { upDone <- r.uploads(ctx, upCfg, false) }()
	}
	if cfg.duration > 0 {
		if err := r.mix(ctx); err != nil {
			return err
		}
	}
	if cfg.uploadRate > 0 {
		var err error
		if cfg.uploadPhase == "during" {
			logf("load: waiting for the uploads to become ready")
			err = <-upDone
		} else {
			logf("load: upload→ready on its own: %.3g uploads/s for %s", cfg.uploadRate, cfg.uploadDuration)
			err = r.uploads(ctx, upCfg, true)
		}
		if err != nil {
			return err
		}
	}
	if cfg.ceiling {
		ccfg := refs.CeilingConfig{Base: cfg.target, Workers: cfg.ceilingWorkers, Duration: cfg.ceilingDuration,
			Posts: r.data.Ready(), Token: r.data.Users[0].Token, Logf: logf, Stack: r.stack, ImageSizes: cfg.ceilingImages,
			Rounds: cfg.ceilingRounds}
		// The images of the large photo when upload→ready made some: the
		// seeded pictures are small.
		if u := r.rep.Uploads; u != nil {
			for _, s := range u.Samples {
				if s.Outcome == "ready" && s.PostID != "" {
					ccfg.ImagePost = s.PostID
					break
				}
			}
		}
		if nginxBin != "" {
			ng, err := nginx.Start(ctx, nginx.Config{Binary: nginxBin, Upstream: cfg.postHTTP, Workers: cfg.nginxWorkers, AccessLog: cfg.nginxAccessLog})
			if err != nil {
				r.rep.Skipped["nginx"] = err.Error()
				logf("load: not measured: nginx: %v", err)
			} else {
				logf("load: nginx %s on %s (%d workers), proxying to %s", ng.Version, ng.Addr, ng.Workers(), cfg.postHTTP)
				ccfg.Nginx = ng
			}
		}
		c, err := refs.RunCeiling(ctx, ccfg)
		if ccfg.Nginx != nil {
			t := time.Now()
			ccfg.Nginx.Stop()
			logf("load: nginx stopped in %s", time.Since(t).Round(time.Millisecond))
		}
		if err != nil {
			return err
		}
		r.rep.Ceiling = &c
	}
	if cfg.refs {
		references(ctx, cfg, r.data, r.rep)
	} else {
		r.rep.Skipped["references"] = "-refs=false"
	}
	if cfg.uploadRate > 0 && cfg.compute {
		r.compute(ctx, largePath)
	}
	return r.finish()
}

// findNginx finds nginx for the ceiling, or says in the report why there
// is none.
func (r *runner) findNginx(ctx context.Context) string {
	if r.cfg.nginx == "off" {
		r.rep.Skipped["nginx"] = "-nginx=off"
		return ""
	}
	bin, err := nginx.Find(ctx, r.cfg.nginx, r.cfg.nginxInstall, logf)
	if err != nil {
		r.rep.Skipped["nginx"] = err.Error()
		logf("load: not measured: nginx: %v", err)
		return ""
	}
	return bin
}

// finish writes the report and the plots.
func (r *runner) finish() error {
	r.rep.Finished = time.Now()
	r.rep.Machine.LoadAvgEnd, _ = report.LoadAvg()
	r.rep.AddGoals()
	if err := drawPlots(r.cfg.out, r.rep, r.rec); err != nil {
		return err
	}
	if err := r.rep.Write(r.cfg.out); err != nil {
		return err
	}
	if err := r.rep.Markdown(os.Stdout); err != nil {
		return err
	}
	logf("load: wrote %s", r.cfg.out)
	return nil
}

func (r *runner) seed(ctx context.Context) error {
	images, names, err := seed.LoadImages(r.cfg.images, seed.DefaultMaxPixels)
	if err != nil {
		return err
	}
	logf("load: %d pictures from %s: %s", len(images), r.cfg.images, strings.Join(names, ", "))
	r.data, err = seed.Seed(ctx, r.client, seed.Config{
		RunID: r.runID, Users: r.cfg.users, PostsPerUser: r.cfg.postsPerUser, Follows: r.cfg.follows,
		CommentsPerPost: r.cfg.commentsPerPost, Images: images, Concurrency: r.cfg.seedConcurrency,
		ReadyTimeout: r.cfg.readyTimeout, Logf: logf,
	})
	if err != nil {
		return rateLimitHint(err)
	}
	d := r.data
	r.rep.Seed = report.Seed{Users: len(d.Users), Posts: len(d.Posts), Ready: d.Count("ready"), Failed: d.Count("failed"),
		Comments: d.Comments, Pictures: len(images), TookS: d.Took.Seconds(), PicturesFrom: r.cfg.images}
	return nil
}

// prepareUploads reads or renders the large photo and fills in cfg. It
// returns the photo's path and what removes a rendered one.
func (r *runner) prepareUploads(cfg *uploads.Config) (string, func(), error) {
	path, large, err := largePhoto(r.cfg)
	if err != nil {
		return "", nil, err
	}
	cleanup := func() {}
	u := &report.Uploads{Phase: r.cfg.uploadPhase}
	u.Image.Bytes, u.Image.Source = len(large), path
	u.Image.Width, u.Image.Height = imageSize(large)
	if r.cfg.largeImage == "" {
		u.Image.Source = "generated photo-like JPEG (platform/phototest, quality 90)"
		cleanup = func() { os.RemoveAll(filepath.Dir(path)) }
	}
	r.rep.Uploads = u
	r.zero = time.Now()
	*cfg = uploads.Config{Base: r.cfg.target, Rate: r.cfg.uploadRate, Duration: r.cfg.uploadDuration, Poll: r.cfg.poll, Wait: r.cfg.wait,
		ReadyTimeout: r.cfg.readyTimeout, Image: large, Users: r.data.Users, RunID: r.runID, Progress: os.Stderr, Zero: r.zero}
	return path, cleanup, nil
}

// uploads runs upload→ready; alone, it has its own time origin and its
// CPU accounted.
func (r *runner) uploads(ctx context.Context, cfg uploads.Config, alone bool) error {
	var before procs.Snapshot
	if alone {
		cfg.Zero = time.Now()
		if r.stack != nil {
			before = r.stack.Take()
		}
	}
	res, err := uploads.Run(ctx, r.client, cfg)
	if err != nil {
		return err
	}
	if alone && r.stack != nil {
		u := procs.Since(before, r.stack.Take(), res.Accepted)
		r.rep.UploadsCPU = &u
	}
	r.rep.Uploads.Result = res
	logf("load: uploads: %d sent, %d ready, 202→ready p50 %.0f ms p95 %.0f ms", res.Sent, res.Ready, res.ReadyAfter202Ms.P50, res.ReadyAfter202Ms.P95)
	r.stages(ctx, res)
	return nil
}

// stages explains 202 → ready stage by stage from the thumbnailer's log
// lines in the launcher's log. A missing log is reported, not fatal.
func (r *runner) stages(ctx context.Context, res uploads.Result) {
	var ups []stages.Upload
	for _, s := range res.Samples {
		if s.Outcome == "ready" && s.PostID != "" {
			ups = append(ups, stages.Upload{PostID: s.PostID, ReadyAfter: s.ReadyAfter})
		}
	}
	if len(ups) == 0 {
		return
	}
	// The thumbnailer logs after its report returns, and the launcher
	// copies the line a moment later: a post can read ready before its
	// line is in the file.
	var (
		b   stages.Breakdown
		err error
	)
	for deadline := time.Now().Add(3 * time.Second); ; {
		var log stages.Log
		if log, err = stages.ReadFile(r.cfg.stackLog); err == nil {
			b = stages.Explain(ups, log, r.cfg.stackLog)
		}
		if (err == nil && b.Matched == b.Uploads) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	switch {
	case err != nil:
		r.rep.Skipped["upload stages"] = fmt.Sprintf("%v (the launcher writes it: bin/stack -log-file; or point -stack-log at the log holding the thumbnailer's lines)", err)
	case b.Matched == 0:
		r.rep.Skipped["upload stages"] = fmt.Sprintf("%s has no %q line for any of the %d ready uploads (%d lines read, %d such lines): is it the log of the stack under load?",
			r.cfg.stackLog, stages.Message, b.Uploads, b.LogLines, b.MadeLines)
	default:
		r.rep.Uploads.Stages = &b
		logf("load: upload stages: %d of %d ready uploads matched in %s", b.Matched, b.Uploads, r.cfg.stackLog)
		return
	}
	logf("load: not measured: upload stages: %s", r.rep.Skipped["upload stages"])
}

// mix drives the weighted mix at the set rate.
func (r *runner) mix(ctx context.Context) error {
	ws, _ := mix.ParseWeights(r.cfg.mix) // checked by parseFlags
	targets, err := mix.NewTargets(r.cfg.target, ws, r.data, r.runID, r.cfg.seed)
	if err != nil {
		return err
	}
	if r.zero.IsZero() {
		r.zero = time.Now()
	}
	logf("load: mix %s at %.3g/s for %s", ws, r.cfg.rate, r.cfg.duration)
	var before procs.Snapshot
	if r.stack != nil {
		before = r.stack.Take()
	}
	elapsed, err := attack.Run(ctx, attack.Options{Name: "mix", Rate: r.cfg.rate, Duration: r.cfg.duration,
		Targeter: targets.Targeter(), MaxBody: 1024, Timeout: 30 * time.Second, Progress: os.Stderr},
		func(res *vegeta.Result) {
			r.rec.Add(mix.Classify(res.Method, res.URL), stats.Sample{At: res.Timestamp.Sub(r.zero), Latency: res.Latency, Code: int(res.Code), Error: res.Error})
		})
	if err != nil {
		return err
	}
	all := r.rec.All()
	if r.stack != nil {
		u := procs.Since(before, r.stack.Take(), len(all))
		r.rep.MixCPU = &u
	}
	m := &report.Mix{Weights: ws.String(), Rate: r.cfg.rate, DurationS: elapsed.Seconds(), Total: stats.Summarize(all, elapsed)}
	for _, route := range append(slices.Clone(mix.Routes), mix.Other) {
		if s := r.rec.Samples(route); len(s) > 0 {
			m.Routes = append(m.Routes, report.Route{Route: route, Share: ws.Share(route), Summary: stats.Summarize(s, elapsed)})
		}
	}
	r.rep.Mix = m
	return nil
}

// compute times the thumbnailer's work on the large photo alone, after
// the load.
func (r *runner) compute(ctx context.Context, path string) {
	logf("load: timing the thumbnail compute of the large photo (BenchmarkGenerate)")
	c, err := uploads.ComputeTime(ctx, filepath.Join(r.cfg.root, "workers"), path, 3)
	if err != nil {
		r.rep.Skipped["thumbnail compute"] = err.Error()
		logf("load: %v", err)
		return
	}
	r.rep.Uploads.Compute = &c
}

// references measures what can be, and says why the others were not.
func references(ctx context.Context, cfg config, data seed.Data, rep *report.Report) {
	userTok, err1 := refs.ReadTokens(filepath.Join(cfg.dataDir, "tokens", "user.env"))
	// The reference calls user as post does (user answers only the apps
	// allowed to ask it).
	postTok, err2 := refs.ReadTokens(filepath.Join(cfg.dataDir, "tokens", "post.env"))
	if err := errors.Join(err1, err2); err != nil {
		rep.Skipped["grpc"] = err.Error()
	} else {
		logf("load: gRPC IsBlocked, direct and through two sidecars")
		g, err := refs.RunGRPC(ctx, refs.GRPCConfig{UserAddr: cfg.userGRPC, AppToken: userTok["APP_API_TOKEN"],
			SidecarAddr: cfg.postSidecar, DaprToken: postTok["DAPR_API_TOKEN"],
			UserID: data.Users[0].ID, OtherID: data.Users[1].ID, Duration: cfg.refsDuration})
		if err != nil {
			rep.Skipped["grpc"] = err.Error()
		} else {
			rep.GRPC = &g
		}
	}

	logf("load: argon2id hashes")
	a, err := refs.RunArgon2(cfg.refsDuration)
	if err != nil {
		rep.Skipped["argon2"] = err.Error()
	} else {
		rep.Argon2 = &a
	}
	for name, why := range rep.Skipped {
		logf("load: not measured: %s: %s", name, why)
	}
}

func drawPlots(dir string, rep *report.Report, rec *stats.Recorder) error {
	var series []plots.Series
	for _, route := range append(append([]string{}, mix.Routes...), mix.Other) {
		if s := rec.Samples(route); len(s) > 0 {
			series = append(series, plots.Series{Route: route, Samples: s})
		}
	}
	title := "Pixshare load run " + rep.RunID
	if rep.Mix != nil {
		title = fmt.Sprintf("Pixshare load run %s: %.3g req/s mix for %.0f s (latency per request; line: median of each second; red: errors)", rep.RunID, rep.Mix.Rate, rep.Mix.DurationS)
	}
	if len(series) > 0 {
		span := time.Duration(0)
		if rep.Mix != nil {
			span = time.Duration(rep.Mix.DurationS * float64(time.Second))
		}
		if err := plots.LatencyOverTime(filepath.Join(dir, "latency_over_time.png"), title, series, span); err != nil {
			return err
		}
		if err := plots.LatencyCDF(filepath.Join(dir, "latency_cdf.png"), "Latency distribution per route, run "+rep.RunID, series); err != nil {
			return err
		}
		rep.Plots = append(rep.Plots, "latency_over_time.png", "latency_cdf.png")
	}
	if u := rep.Uploads; u != nil && u.Ready > 0 {
		computeMs := 0.0
		if u.Compute != nil {
			computeMs = u.Compute.Ms
		}
		t := fmt.Sprintf("Upload → ready, %dx%d JPEG at %.3g/s (%s the mix), run %s", u.Image.Width, u.Image.Height, u.Rate, u.Phase, rep.RunID)
		if err := plots.UploadReady(filepath.Join(dir, "upload_ready.png"), t, u.Samples, computeMs); err != nil {
			return err
		}
		rep.Plots = append(rep.Plots, "upload_ready.png")
	}
	return nil
}

// largePhoto reads -large-image or renders a 12 MP photo-like JPEG into a
// new temporary directory.
func largePhoto(cfg config) (string, []byte, error) {
	if cfg.largeImage != "" {
		b, err := os.ReadFile(cfg.largeImage)
		if err != nil {
			return "", nil, fmt.Errorf("read -large-image: %w", err)
		}
		abs, err := filepath.Abs(cfg.largeImage)
		if err != nil {
			return "", nil, fmt.Errorf("read -large-image: %w", err)
		}
		return abs, b, nil
	}
	dir, err := os.MkdirTemp("", "pixshare-load-")
	if err != nil {
		return "", nil, fmt.Errorf("temporary directory: %w", err)
	}
	path := filepath.Join(dir, "photo-12mp.jpg")
	logf("load: rendering a 4000x3000 photo-like JPEG into %s", path)
	if err := phototest.WriteJPEG(path, 4000, 3000, 12); err != nil {
		return "", nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("read %s: %w", path, err)
	}
	return path, b, nil
}

// portOf returns the port of host:port.
func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return port
}

// imageSize returns a picture's dimensions, or zeros.
func imageSize(b []byte) (int, int) {
	c, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return 0, 0
	}
	return c.Width, c.Height
}

func rateLimitHint(err error) error {
	var se *api.StatusError
	if errors.As(err, &se) && se.Status == http.StatusTooManyRequests {
		return fmt.Errorf("%w\nthe stack rate-limits: restart it with RATE_LIMIT_ENABLED=false", err)
	}
	return err
}
