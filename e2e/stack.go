// Package e2e runs the whole Pixshare stack through the launcher (the same
// dapr.yaml and components as `make run`) and walks user journeys over the
// gateway's REST API.
package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v2"

	"pixshare/platform/daprtest"
)

// Stack is a running launcher in a scratch copy of the repository's run
// configuration, so its .data/ never touches the developer's.
type Stack struct {
	Root    string
	Gateway string
	// Apps maps every app instance of the ready line ("post", "post-2", …)
	// to its REST URL.
	Apps map[string]string
	// Mailpit is the URL of the stack's Mailpit (web inbox, and its API
	// under /api/v1), "" when bin/mailpit is not built.
	Mailpit string
	cmd     *exec.Cmd
	out     *lines
	done    chan struct{}
	// How the launcher was started, for Restart.
	bin  string
	args []string
	env  []string
}

// apps maps the commands of dapr.yaml to their Go packages.
var apps = map[string]string{
	"bin/user":        "pixshare/user/cmd/user",
	"bin/gateway":     "pixshare/gateway/cmd/gateway",
	"bin/post":        "pixshare/post/cmd/post",
	"bin/thumbnailer": "pixshare/workers/cmd/thumbnailer",
	"bin/indexer":     "pixshare/search/cmd/indexer",
	"bin/search":      "pixshare/search/cmd/search",
	"bin/comment":     "pixshare/comment/cmd/comment",
	"bin/mailer":      "pixshare/workers/cmd/mailer",
}

// Options change how the stack is started.
type Options struct {
	// Profile is a folder of components/ (default "local").
	Profile string
	// Env is added to the launcher's environment (and so every app's).
	Env map[string]string
	// Replace rewrites text in the copied component files (infrastructure
	// addresses given by the environment).
	Replace map[string]string
	// DatabaseURLs replaces the SQLite URL of dapr.yaml per database name
	// (user, post, comment, search).
	DatabaseURLs map[string]string
	// NoBroker leaves the embedded broker out (profiles with their own).
	NoBroker bool
	// Replicas is the launcher's -replicas (e.g. "post=2,user=2").
	Replicas string
}

// Start copies dapr.yaml and components/ into a temp dir, builds every
// app the run file names, runs the launcher there and waits for its
// "ready:" line.
func Start(t *testing.T, opts Options) *Stack {
	t.Helper()
	// Free ports are found by binding port 0 and letting go, so another
	// stack, or an outgoing connection's source port, may take one before
	// the launcher binds it; it then refuses to start, saying so. Another
	// set of ports is the cure.
	for attempt := 1; ; attempt++ {
		s := prepare(t, opts)
		err := s.tryLaunch(t)
		if err == nil {
			return s
		}
		if attempt < 3 && errors.Is(err, errPortTaken) {
			t.Logf("attempt %d: %v; trying other ports", attempt, err)
			s.Stop(t)
			continue
		}
		t.Fatal(err)
	}
}

// portTaken finds the launcher's refusal of a taken port, or a child's
// failure to bind one. A sidecar whose metrics port was taken may not get
// to say so: daprd binds it beside the name resolution's migration, whose
// rollback then fails on the cancelled start and exits with only
// "Failed to rollback transaction: context canceled" (Dapr 1.14's SQLite
// migrations, common/component/sql/migrations/sqlite).
var portTaken = regexp.MustCompile(`^stack: port \d+ .* is already in use|bind: address already in use|Failed to rollback transaction: context canceled`)

// errPortTaken marks a launch refused because a port was taken meanwhile.
var errPortTaken = errors.New("a port of the stack was taken before the launcher bound it")

// prepare writes the stack's directory, with every port moved to a free one.
func prepare(t *testing.T, opts Options) *Stack {
	t.Helper()
	daprd := daprtest.Daprd(t)
	repo, err := daprtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	runFile, err := os.ReadFile(filepath.Join(repo, "dapr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	profile := opts.Profile
	if profile == "" {
		profile = "local"
	}
	text := string(runFile)
	// Every port of the run file moves to a free one, so the suite runs
	// beside a developer's `make run` (and beside other stacks).
	ports := portPicker{}
	text = remapPorts(t, text, ports)
	for db, url := range opts.DatabaseURLs {
		text = strings.ReplaceAll(text, "sqlite://.data/"+db+".db", url)
	}
	runFile = []byte(text)
	if err := os.WriteFile(filepath.Join(root, "dapr.yaml"), runFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(root, "components"), os.DirFS(filepath.Join(repo, "components"))); err != nil {
		t.Fatal(err)
	}
	replaceInDir(t, filepath.Join(root, "components", profile), opts.Replace)
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for cmd, pkg := range apps {
		if !strings.Contains(string(runFile), `"`+cmd+`"`) {
			continue
		}
		if err := os.Symlink(daprtest.Binary(t, pkg), filepath.Join(root, cmd)); err != nil {
			t.Fatal(err)
		}
	}
	stackBin := daprtest.Binary(t, "pixshare/tools/stack")

	s := &Stack{Root: root, bin: stackBin}
	s.args = []string{"-f", filepath.Join(root, "dapr.yaml"), "-daprd", daprd, "-profile", profile}
	if opts.NoBroker {
		s.args = append(s.args, "-nats-port", "0")
	} else {
		nats := ports.pick(t)
		s.args = append(s.args, "-nats-port", strconv.Itoa(nats))
		replaceInDir(t, filepath.Join(root, "components", profile), map[string]string{
			"nats://127.0.0.1:4223": "nats://127.0.0.1:" + strconv.Itoa(nats),
		})
	}
	// Mailpit on free ports too, and the profile's mail binding pointed
	// at it. Without bin/mailpit (tools/mailpit/ensure.sh, which `make
	// test` runs) the stack runs without it and mail tests skip.
	if mailpit := filepath.Join(repo, "bin", "mailpit"); isExecutable(mailpit) {
		smtp, web := ports.pick(t), ports.pick(t)
		s.args = append(s.args, "-mailpit", mailpit, "-mailpit-smtp-port", strconv.Itoa(smtp), "-mailpit-http-port", strconv.Itoa(web))
		replaceInDir(t, filepath.Join(root, "components", profile), map[string]string{
			"- name: port\n      value: \"1025\"": "- name: port\n      value: \"" + strconv.Itoa(smtp) + "\"",
		})
		s.Mailpit = "http://127.0.0.1:" + strconv.Itoa(web)
	} else {
		s.args = append(s.args, "-mailpit-smtp-port", "0")
	}
	if opts.Replicas != "" {
		s.args = append(s.args, "-replicas", opts.Replicas)
	}
	s.env = append(os.Environ(), "LOG_LEVEL=info")
	for k, v := range opts.Env {
		s.env = append(s.env, k+"="+v)
	}
	t.Cleanup(func() {
		s.Stop(t)
		if t.Failed() {
			t.Logf("stack output (last 300 lines):\n%s", s.out.tail(300))
		}
	})
	return s
}

// Restart stops the stack and starts it again in the same directory, on
// the same ports, with its data: as an operator restarts `make run`.
func (s *Stack) Restart(t *testing.T) {
	t.Helper()
	s.Stop(t)
	s.launch(t)
}

// launch runs the launcher and waits for its "ready:" line. A restart
// keeps its ports, and the launcher checks each on every address, where
// any connection of the machine may hold it as its source port for a
// moment (the suite's clients come from many 127.x addresses): a refusal
// for a taken port is tried again after a pause, when that connection is
// gone.
func (s *Stack) launch(t *testing.T) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		err := s.tryLaunch(t)
		if err == nil {
			return
		}
		if attempt < 5 && errors.Is(err, errPortTaken) {
			t.Logf("restart attempt %d: %v; trying the same ports again", attempt, err)
			time.Sleep(2 * time.Second)
			continue
		}
		t.Fatal(err)
	}
}

// tryLaunch is launch, returning the launcher's refusal to start.
func (s *Stack) tryLaunch(t *testing.T) error {
	t.Helper()
	s.run(t)

	ready := regexp.MustCompile(`^ready: (http://\S+)`)
	deadline := time.Now().Add(4 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			if s.out.find(portTaken) != nil {
				return fmt.Errorf("%w:\n%s", errPortTaken, s.out.tail(20))
			}
			return fmt.Errorf("the launcher exited before ready:\n%s", s.out.tail(200))
		default:
		}
		if m := s.out.find(ready); m != nil {
			s.Gateway = m[1]
			s.Apps = map[string]string{}
			for _, kv := range strings.Fields(s.out.find(regexp.MustCompile(`^ready: .*`))[0]) {
				if name, url, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(url, "http://") {
					s.Apps[name] = url
				}
			}
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no ready line after 4 minutes:\n%s", s.out.tail(200))
}

// portPattern finds the ports of a run file: after "Port: " and in
// loopback addresses.
var portPattern = regexp.MustCompile(`(Port: |127\.0\.0\.1:)(\d{4,5})\b`)

// portPicker hands out free ports, each once: the kernel readily gives
// the same free port to consecutive binds of port 0, so ports picked one
// by one for one stack would otherwise collide with each other.
type portPicker map[int]bool

func (used portPicker) pick(t *testing.T) int {
	t.Helper()
	for {
		if p := daprtest.FreePort(t); !used[p] {
			used[p] = true
			return p
		}
	}
}

// remapPorts gives every distinct port of the run file a free one.
func remapPorts(t *testing.T, text string, ports portPicker) string {
	t.Helper()
	mapped := map[string]string{}
	return portPattern.ReplaceAllStringFunc(text, func(m string) string {
		sub := portPattern.FindStringSubmatch(m)
		if _, ok := mapped[sub[2]]; !ok {
			mapped[sub[2]] = strconv.Itoa(ports.pick(t))
		}
		return sub[1] + mapped[sub[2]]
	})
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

// replaceInDir rewrites text in every file of dir.
func replaceInDir(t *testing.T, dir string, replace map[string]string) {
	t.Helper()
	if len(replace) == 0 {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for from, to := range replace {
			b = []byte(strings.ReplaceAll(string(b), from, to))
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Output is everything the stack printed so far.
func (s *Stack) Output() string { return s.out.tail(1 << 30) }

// Stop sends SIGTERM to the launcher and waits for it to exit.
func (s *Stack) Stop(t *testing.T) {
	t.Helper()
	if s.cmd == nil || s.cmd.Process == nil {
		return // never started
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(40 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
		t.Errorf("the launcher did not stop within 40s of SIGTERM")
	}
}

// Leftovers lists processes still running from the stack's directory or
// binaries.
func (s *Stack) Leftovers() []string {
	var left []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := fmt.Sscanf(e.Name(), "%d", new(int)); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		c := strings.ReplaceAll(string(cmdline), "\x00", " ")
		if strings.Contains(c, s.Root) || strings.HasPrefix(cwd, s.Root) {
			left = append(left, e.Name()+": "+c)
		}
	}
	return left
}

// lines collects output lines.
type lines struct {
	mu  sync.Mutex
	all []string
}

func (l *lines) collect(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l.mu.Lock()
		l.all = append(l.all, sc.Text())
		l.mu.Unlock()
	}
}

func (l *lines) find(re *regexp.Regexp) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.all {
		if m := re.FindStringSubmatch(line); m != nil {
			return m
		}
	}
	return nil
}

func (l *lines) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := max(0, len(l.all)-n)
	return strings.Join(l.all[start:], "\n")
}

// AssertNoSecretsLogged fails t if anything the stack printed contains the
// JWT signing key of the run or any of the given secrets (tokens,
// passwords).
func (s *Stack) AssertNoSecretsLogged(t *testing.T, secrets ...string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(s.Root, ".data", "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]string
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	// Every key of the secret (one during a rotation's steps, or several).
	secrets = append(secrets, strings.FieldsFunc(file["jwt-signing-key"], func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })...)
	out := s.Output()
	for _, secret := range secrets {
		if secret != "" && strings.Contains(out, secret) {
			t.Errorf("a secret (%.6s…) appears in the logs", secret)
		}
	}
	tokens := filepath.Join(s.Root, ".data", "tokens")
	entries, _ := os.ReadDir(tokens)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(tokens, e.Name()))
		for _, line := range strings.Split(string(b), "\n") {
			if _, v, ok := strings.Cut(line, "="); ok && v != "" && strings.Contains(out, v) {
				t.Errorf("an API token of %s appears in the logs", e.Name())
			}
		}
	}
}

// Command runs one of the apps' operator commands (e.g. `user suspend
// NAME`) against the running stack, as `make suspend` does: through the
// app's own sidecar, with its tokens and database, from the stack's
// directory. It returns the command's combined output.
func (s *Stack) Command(t *testing.T, appID string, args ...string) (string, error) {
	t.Helper()
	var run struct {
		Apps []struct {
			AppID    string            `yaml:"appID"`
			GRPCPort int               `yaml:"daprGRPCPort"`
			HTTPPort int               `yaml:"daprHTTPPort"`
			Env      map[string]string `yaml:"env"`
		} `yaml:"apps"`
	}
	b, err := os.ReadFile(filepath.Join(s.Root, "dapr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &run); err != nil {
		t.Fatal(err)
	}
	for _, a := range run.Apps {
		if a.AppID != appID {
			continue
		}
		cmd := exec.Command(filepath.Join(s.Root, "bin", appID), args...)
		cmd.Dir = s.Root
		cmd.Env = append(os.Environ(), fmt.Sprintf("DAPR_GRPC_PORT=%d", a.GRPCPort), fmt.Sprintf("DAPR_HTTP_PORT=%d", a.HTTPPort),
			"HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=info")
		for k, v := range a.Env {
			if k != "HTTP_ADDR" {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
		}
		tokens, err := os.ReadFile(filepath.Join(s.Root, ".data", "tokens", appID+".env"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(tokens), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				cmd.Env = append(cmd.Env, line)
			}
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Fatalf("no app %s in the run file", appID)
	return "", nil
}

// Running reports whether the launcher is still up. The launcher never
// restarts a child: any app that exits (crash, OOM kill) ends the whole
// stack with an "… exited" line, so a stack still running means no app was
// restarted or lost.
func (s *Stack) Running() bool {
	if s.done == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// AppPIDs maps the app id of every running app process of the stack (not
// the sidecars) to its pid, found in /proc by the stack's directory and the
// APP_ID the launcher gives each app. With replicas the later instances
// are named "id#pid".
func (s *Stack) AppPIDs() map[string]int {
	pids := map[string]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil {
			continue
		}
		argv0, _, _ := strings.Cut(string(cmdline), "\x00")
		if cwd, _ := os.Readlink(filepath.Join(dir, "cwd")); cwd != s.Root {
			continue
		}
		environ, _ := os.ReadFile(filepath.Join(dir, "environ"))
		var id string
		for _, kv := range strings.Split(string(environ), "\x00") {
			if v, ok := strings.CutPrefix(kv, "APP_ID="); ok {
				id = v
			}
		}
		// The app's own binary is bin/<app id>; its sidecar is daprd.
		if id == "" || filepath.Base(argv0) != id {
			continue
		}
		if _, dup := pids[id]; dup {
			id = fmt.Sprintf("%s#%d", id, pid)
		}
		pids[id] = pid
	}
	return pids
}

// run starts the launcher in the stack's directory, collecting its output;
// done closes when it exits.
func (s *Stack) run(t *testing.T) {
	t.Helper()
	s.out, s.done = &lines{}, make(chan struct{})
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Dir = s.Root
	s.cmd.Env = s.env
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pipe, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = s.cmd.Stdout
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go s.out.collect(pipe)
	done := s.done
	go func(cmd *exec.Cmd) {
		_ = cmd.Wait()
		close(done)
	}(s.cmd)
}
