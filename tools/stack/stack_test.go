package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"pixshare/platform/syncbuf"
)

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	var lns []net.Listener
	for range n {
		// On every address, as the launcher checks ports.
		ln, err := net.Listen("tcp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// fakeApp describes one app of the generated run file.
type fakeAppSpec struct {
	id        string
	httpAddr  bool              // serve HTTP_ADDR (else readiness goes through the sidecar)
	noAppPort bool              // no app channel: a real daprd would wait for one
	env       map[string]string // extra env (FAKE_EXIT_AFTER, FAKE_NEVER_READY)
	ports     []int             // app, dapr http, grpc, internal, metrics, HTTP_ADDR
}

// fixture is a temporary project: run file, bin/ symlinks to the test binary
// (as the apps) and a fake daprd.
type fixture struct {
	dir    string
	events string
	daprd  string
	opts   options
	apps   []fakeAppSpec
}

func newFixture(t *testing.T, apps ...fakeAppSpec) *fixture {
	t.Helper()
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: dir, events: filepath.Join(dir, "events.log")}
	// components/own is what the run file names (as dapr.yaml names redis);
	// components/local and components/other are profiles to choose instead.
	for _, sub := range []string{"bin", "components/own", "components/local", "components/other", "tools"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"own", "local", "other"} {
		if err := os.WriteFile(filepath.Join(dir, "components", p, "config.yaml"), []byte("# "+p+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f.daprd = filepath.Join(dir, "tools", "daprd")
	if err := os.Symlink(self, f.daprd); err != nil {
		t.Fatal(err)
	}
	var yaml strings.Builder
	yaml.WriteString("version: 1\ncommon:\n  resourcesPath: ./components/own\n  configFilePath: ./components/own/config.yaml\n  appProtocol: grpc\n  logLevel: warn\n  env:\n    COMMON: yes\napps:\n")
	// Every port at once: listeners held open together are distinct, while
	// consecutive binds of port 0 readily get the same port back.
	ports := freePorts(t, 6*len(apps)+1)
	for i := range apps {
		a := &apps[i]
		a.ports = ports[6*i : 6*i+6]
		if err := os.Symlink(self, filepath.Join(dir, "bin", a.id)); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&yaml, "  - appID: %s\n    appDirPath: .\n    command: [\"bin/%s\"]\n", a.id, a.id)
		if !a.noAppPort {
			fmt.Fprintf(&yaml, "    appPort: %d\n", a.ports[0])
		}
		fmt.Fprintf(&yaml, "    daprHTTPPort: %d\n    daprGRPCPort: %d\n    daprInternalGRPCPort: %d\n    metricsPort: %d\n",
			a.ports[1], a.ports[2], a.ports[3], a.ports[4])
		yaml.WriteString("    env:\n")
		if a.httpAddr {
			fmt.Fprintf(&yaml, "      HTTP_ADDR: 127.0.0.1:%d\n", a.ports[5])
		}
		for k, v := range a.env {
			fmt.Fprintf(&yaml, "      %s: %q\n", k, v)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "dapr.yaml"), []byte(yaml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	f.apps = apps
	f.opts = options{
		runFile:        filepath.Join(dir, "dapr.yaml"),
		profile:        "local",
		daprd:          f.daprd,
		natsPort:       ports[len(ports)-1],
		dataDir:        ".data",
		readyTimeout:   30 * time.Second,
		topics:         []string{"thumbnails", "search-index", "domain-events", "mail", "dead-letters"},
		streamMaxAge:   time.Hour,
		streamMaxBytes: 1 << 20,
	}
	t.Setenv(fakeEnv, f.events)
	return f
}

// start runs the launcher in the background; the returned function waits for
// its exit code.
func (f *fixture) start(ctx context.Context) (*syncbuf.Buffer, *syncbuf.Buffer, func() int) {
	stdout, stderr := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, f.opts, stdout, stderr) }()
	return stdout, stderr, func() int {
		select {
		case code := <-done:
			return code
		case <-time.After(60 * time.Second):
			panic("launcher did not return\n" + stdout.String())
		}
	}
}

func (f *fixture) eventLines(t *testing.T) []string {
	t.Helper()
	b, _ := os.ReadFile(f.events)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func waitFor(t *testing.T, out *syncbuf.Buffer, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindString(out.String()); m != "" {
			return m
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%v never appeared in output:\n%s", re, out.String())
	return ""
}

func indexOf(lines []string, prefix string) int {
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return i
		}
	}
	return -1
}

func TestStackStartsReadiesAndStops(t *testing.T) {
	f := newFixture(t,
		fakeAppSpec{id: "user", httpAddr: true},
		fakeAppSpec{id: "gateway", httpAddr: true},
		fakeAppSpec{id: "worker"},
	)
	f.opts.logFile = "stack.log"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr, wait := f.start(ctx)

	line := waitFor(t, stdout, regexp.MustCompile(`(?m)^ready: .*$`))
	user, gw, worker := f.apps[0], f.apps[1], f.apps[2]
	want := fmt.Sprintf("ready: http://127.0.0.1:%d (gateway, docs at http://127.0.0.1:%d/docs) user=http://127.0.0.1:%d worker(sidecar)=http://127.0.0.1:%d nats=nats://127.0.0.1:%d",
		gw.ports[5], gw.ports[5], user.ports[5], worker.ports[1], f.opts.natsPort)
	if line != want {
		t.Errorf("ready line\n got %s\nwant %s", line, want)
	}
	if n := strings.Count(stdout.String(), "\nready: ") + boolInt(strings.HasPrefix(stdout.String(), "ready: ")); n != 1 {
		t.Errorf("%d ready lines", n)
	}
	// Every child's output is prefixed with its padded name.
	for _, want := range []string{"user         │ fake app user starting", "user.dapr    │ user.dapr up", "worker.dapr  │ worker.dapr up"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	// The secrets file exists and is private.
	if info, err := os.Stat(filepath.Join(f.dir, ".data", "secrets.json")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("secrets.json: %v %v", info, err)
	}

	cancel() // what SIGINT does
	if code := wait(); code != 0 {
		t.Errorf("exit code %d after stop; stderr:\n%s", code, stderr.String())
	}
	if !strings.HasSuffix(stdout.String(), "stopped\n") {
		t.Errorf("output does not end with stopped:\n%s", stdout.String())
	}
	// The log file has every console line, to the last.
	if b, err := os.ReadFile(filepath.Join(f.dir, ".data", "stack.log")); err != nil || string(b) != stdout.String() {
		t.Errorf("stack.log (%v) differs from the console:\n%s\n---\n%s", err, b, stdout.String())
	}

	events := f.eventLines(t)
	// The first sidecar was healthy before any other sidecar started.
	if ok, others := indexOf(events, "outbound-ok user.dapr"), indexOf(events, "start gateway.dapr"); ok < 0 || others < ok {
		t.Errorf("gateway.dapr started before user.dapr was healthy:\n%s", strings.Join(events, "\n"))
	}
	// Sidecars got loopback; apps got the Dapr CLI variables and merged env.
	for _, e := range events {
		if strings.HasPrefix(e, "start ") && strings.Contains(e, ".dapr ") && !strings.Contains(e, "DAPR_HOST_IP=127.0.0.1") {
			t.Errorf("sidecar without loopback host ip: %s", e)
		}
	}
	wantUser := fmt.Sprintf("APP_ID=user DAPR_HTTP_PORT=%d APP_PROTOCOL=grpc HTTP_ADDR=127.0.0.1:%d", user.ports[1], user.ports[5])
	if i := indexOf(events, "start user pid="); i < 0 || !strings.Contains(events[i], wantUser) {
		t.Errorf("user env: want %q in\n%s", wantUser, strings.Join(events, "\n"))
	}
	// Apps are asked to stop before any sidecar.
	lastApp, firstSidecar := -1, len(events)
	for i, e := range events {
		switch {
		case strings.HasPrefix(e, "term ") && strings.HasSuffix(e, ".dapr"):
			firstSidecar = min(firstSidecar, i)
		case strings.HasPrefix(e, "term "):
			lastApp = i
		}
	}
	if lastApp < 0 || firstSidecar == len(events) || lastApp > firstSidecar {
		t.Errorf("stop order wrong:\n%s", strings.Join(events, "\n"))
	}
	// Nothing is left behind.
	for _, e := range events {
		if m := regexp.MustCompile(`^start (\S+) pid=(\d+)`).FindStringSubmatch(e); m != nil {
			pid, _ := strconv.Atoi(m[2])
			if syscall.Kill(pid, 0) == nil && !zombie(pid) {
				t.Errorf("%s (pid %d) still running", m[1], pid)
			}
		}
	}
	for _, a := range f.apps {
		for _, p := range a.ports[:2] {
			if ln, err := net.Listen("tcp", ":"+strconv.Itoa(p)); err != nil {
				t.Errorf("port %d still taken", p)
			} else {
				ln.Close()
			}
		}
	}
}

func TestStackReportsEarlyExit(t *testing.T) {
	f := newFixture(t,
		fakeAppSpec{id: "user", httpAddr: true},
		fakeAppSpec{id: "post", httpAddr: true, env: map[string]string{"FAKE_EXIT_AFTER": "300ms"}},
	)
	stdout, _, wait := f.start(context.Background())
	if code := wait(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	out := stdout.String()
	for _, want := range []string{"post exited (exit status 3); last lines:", "post      │ boom", "post      │ fatal: fake failure"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ready:") {
		t.Errorf("ready printed although an app died:\n%s", out)
	}
}

func TestStackReadyTimeout(t *testing.T) {
	f := newFixture(t,
		fakeAppSpec{id: "user", httpAddr: true},
		fakeAppSpec{id: "search", httpAddr: true, env: map[string]string{"FAKE_NEVER_READY": "1"}},
	)
	// Long enough for the fake app to answer 503 even on a loaded machine.
	f.opts.readyTimeout = 10 * time.Second
	stdout, _, wait := f.start(context.Background())
	if code := wait(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	out := stdout.String()
	probe := fmt.Sprintf("search: probe http://127.0.0.1:%d/readyz: context deadline exceeded (last: 503 Service Unavailable)\n", f.apps[1].ports[5])
	for _, want := range []string{fmt.Sprintf("not ready after %v: search\n", f.opts.readyTimeout), probe, "last lines of search:", "search      │ search up", "last lines of search.dapr:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestStackWaitsForFirstSidecar(t *testing.T) {
	f := newFixture(t, fakeAppSpec{id: "user", httpAddr: true}, fakeAppSpec{id: "gateway", httpAddr: true})
	t.Setenv("FAKE_DAPRD_NO_OUTBOUND", "1")
	// Long enough for the fake app to answer 503 even on a loaded machine.
	f.opts.readyTimeout = 10 * time.Second
	stdout, _, wait := f.start(context.Background())
	if code := wait(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	out := stdout.String()
	for _, want := range []string{
		fmt.Sprintf("not ready after %v: user, gateway\n", f.opts.readyTimeout),
		"user: first sidecar not healthy: probe http://127.0.0.1:" + strconv.Itoa(f.apps[0].ports[1]) + "/v1.0/healthz/outbound: context deadline exceeded (last: 500 Internal Server Error)\n",
		"gateway: not started\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if events := f.eventLines(t); indexOf(events, "start gateway") >= 0 {
		t.Errorf("gateway started before the first sidecar was healthy:\n%s", strings.Join(events, "\n"))
	}
}

func TestStackPreflightFailures(t *testing.T) {
	t.Run("port in use", func(t *testing.T) {
		f := newFixture(t, fakeAppSpec{id: "user", httpAddr: true})
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(f.apps[0].ports[5]))
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		_, stderr, wait := f.start(context.Background())
		if code := wait(); code != 1 {
			t.Errorf("exit code %d", code)
		}
		want := fmt.Sprintf("port %d (user HTTP_ADDR) is already in use", f.apps[0].ports[5])
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
		if _, err := os.Stat(f.events); err == nil {
			t.Error("a process was started despite the failed check")
		}
	})
	t.Run("missing binary", func(t *testing.T) {
		f := newFixture(t, fakeAppSpec{id: "user"})
		os.Remove(filepath.Join(f.dir, "bin", "user"))
		_, stderr, wait := f.start(context.Background())
		if code := wait(); code != 1 || !strings.Contains(stderr.String(), "bin/user not found: run `make build`") {
			t.Errorf("code %d, stderr:\n%s", code, stderr.String())
		}
	})
	t.Run("wrong daprd", func(t *testing.T) {
		f := newFixture(t, fakeAppSpec{id: "user"})
		f.opts.daprd = filepath.Join(f.dir, "daprd-edge")
		if err := os.WriteFile(f.opts.daprd, []byte("#!/bin/sh\necho edge\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, stderr, wait := f.start(context.Background())
		if code := wait(); code != 1 || !strings.Contains(stderr.String(), `daprd 1.14.0 not found (looked in `+f.opts.daprd+`: version "edge"): run `+"`make daprd`") {
			t.Errorf("code %d, stderr:\n%s", code, stderr.String())
		}
	})
	t.Run("unknown app", func(t *testing.T) {
		f := newFixture(t, fakeAppSpec{id: "user"})
		f.opts.apps = []string{"nope"}
		_, stderr, wait := f.start(context.Background())
		if code := wait(); code != 1 || !strings.Contains(stderr.String(), "unknown app id(s) nope") {
			t.Errorf("code %d, stderr:\n%s", code, stderr.String())
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func zombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(f) > 0 && f[0] == "Z"
}

// TestStackProfileChoosesResources: the launcher replaces the run file's
// resources with a profile's folder (components/local unless told), embeds
// the broker for that profile only, and leaves the run file's own choice
// when the profile is empty, as `dapr run -f` would load it.
func TestStackProfileChoosesResources(t *testing.T) {
	for _, tt := range []struct {
		name      string
		profile   string
		resources []string // -resources, relative to the fixture
		want      string   // folder of components/ the sidecar loads
		broker    bool
	}{
		{name: "default local", profile: "local", want: "local", broker: true},
		{name: "another profile", profile: "other", want: "other"},
		{name: "the run file's own", profile: "", want: "own"},
		{name: "-resources wins", profile: "local", resources: []string{"components/other"}, want: "other", broker: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, fakeAppSpec{id: "user", httpAddr: true})
			f.opts.profile = tt.profile
			for _, r := range tt.resources {
				f.opts.resources = append(f.opts.resources, filepath.Join(f.dir, r))
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stdout, stderr, wait := f.start(ctx)
			line := waitFor(t, stdout, regexp.MustCompile(`(?m)^ready: .*$`))
			cancel()
			if code := wait(); code != 0 {
				t.Fatalf("exit code %d; stderr:\n%s", code, stderr.String())
			}
			events := f.eventLines(t)
			i := indexOf(events, "start user.dapr ")
			if i < 0 {
				t.Fatalf("no sidecar started:\n%s", strings.Join(events, "\n"))
			}
			dir := filepath.Join(f.dir, "components", tt.want)
			wantArgs := "--resources-path " + dir + " --config "
			if !strings.Contains(events[i], wantArgs) {
				t.Errorf("sidecar args lack %q:\n%s", wantArgs, events[i])
			}
			wantConfig := filepath.Join(f.dir, "components", "own", "config.yaml")
			if tt.profile != "" {
				wantConfig = filepath.Join(f.dir, "components", tt.profile, "config.yaml")
			}
			if !strings.Contains(events[i], "--config "+wantConfig+" ") {
				t.Errorf("sidecar args lack --config %s:\n%s", wantConfig, events[i])
			}
			if got := strings.Contains(line, " nats="); got != tt.broker {
				t.Errorf("embedded broker = %v, want %v: %s", got, tt.broker, line)
			}
			if !strings.Contains(stdout.String(), ", resources components/"+tt.want) {
				t.Errorf("start line does not name components/%s:\n%s", tt.want, stdout.String())
			}
		})
	}

	t.Run("unknown profile", func(t *testing.T) {
		f := newFixture(t, fakeAppSpec{id: "user"})
		f.opts.profile = "nope"
		_, stderr, wait := f.start(context.Background())
		want := "-profile nope: no folder " + filepath.Join(f.dir, "components", "nope")
		if code := wait(); code != 1 || !strings.Contains(stderr.String(), want) {
			t.Errorf("code %d, stderr lacks %q:\n%s", code, want, stderr.String())
		}
	})
}
