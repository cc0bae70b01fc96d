// Package daprtest runs real daprd sidecars for service tests: in-memory
// state and pub/sub (or the embedded broker), local-storage bindings,
// SQLite name resolution in a temp dir, everything on loopback.
//
// Tests skip, saying why, when no daprd 1.14.0 is found (`make daprd`
// builds one into bin/daprd; `make test` does so first).
package daprtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"pixshare/platform/syncbuf"
)

// DaprdEnv names an explicit daprd binary.
const DaprdEnv = "PIXSHARE_DAPRD"

// Daprd returns the daprd binary to use, or skips t.
func Daprd(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(DaprdEnv); p != "" {
		return p
	}
	if root, err := RepoRoot(); err == nil {
		p := filepath.Join(root, "bin", "daprd")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("daprd"); err == nil {
		return p
	}
	t.Skipf("daprd not found (set %s or run `make daprd`); sidecar tests skipped", DaprdEnv)
	return ""
}

// RepoRoot finds the directory holding go.work, walking up from the
// working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.work not found above the working directory")
		}
		dir = parent
	}
}

// handedOut remembers every port FreePort returned in this test process.
// It is process-wide on purpose: the kernel readily gives the same free
// port to consecutive binds of port 0, so two callers (two sidecars of one
// test, or two tests) would otherwise be told the same port.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// FreePort returns a loopback port that was free a moment ago and that no
// earlier call in this process returned.
func FreePort(t testing.TB) int {
	t.Helper()
	for {
		// Probed on every address, as the launcher checks it and as
		// daprd's metrics and internal gRPC servers bind it: a port free
		// on 127.0.0.1 may be a client's source port on another 127.x
		// address (the tests simulate clients from many of them).
		ln, err := net.Listen("tcp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		handedOut.Lock()
		fresh := !handedOut.ports[port]
		handedOut.ports[port] = true
		handedOut.Unlock()
		if fresh {
			return port
		}
	}
}

// Env is a directory of components and a configuration shared by the
// sidecars of one test, so they resolve each other by app id.
type Env struct {
	Dir        string
	Resources  string
	ConfigFile string
	seed       string
}

// Tokens returns the API tokens of appID's sidecar in this env: the one the
// app must send to the sidecar, and the one the sidecar sends to the app.
// They are known before the sidecar starts, so an app can be built first.
func (e *Env) Tokens(appID string) (daprAPIToken, appAPIToken string) {
	d := sha256.Sum256([]byte(e.seed + "/dapr/" + appID))
	a := sha256.Sum256([]byte(e.seed + "/app/" + appID))
	return hex.EncodeToString(d[:16]), hex.EncodeToString(a[:16])
}

// NewEnv writes a Configuration with SQLite name resolution and the given
// component documents (YAML) into a temp dir. ${DIR} in a component is
// replaced by the env's directory.
func NewEnv(t testing.TB, components ...string) *Env {
	t.Helper()
	dir := t.TempDir()
	e := &Env{Dir: dir, Resources: filepath.Join(dir, "resources"), ConfigFile: filepath.Join(dir, "config.yaml"), seed: randomToken()}
	if err := os.MkdirAll(e.Resources, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: test
spec:
  nameResolution:
    component: sqlite
    version: v1
    configuration:
      connectionString: %s
      # Registrations are renewed every updateInterval - timeout and expire
      # after updateInterval: 4 s of slack keeps a sidecar resolvable when a
      # loaded machine delays a renewal.
      updateInterval: 10s
      timeout: 4s
  metrics:
    enabled: true
    http:
      increasedCardinality: false
`, filepath.Join(dir, "nr.db"))
	if err := os.WriteFile(e.ConfigFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, c := range components {
		c = strings.ReplaceAll(c, "${DIR}", dir)
		if err := os.WriteFile(filepath.Join(e.Resources, fmt.Sprintf("c%02d.yaml", i)), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// Component documents for tests.
const (
	InMemoryPubSub = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.in-memory
  version: v1
  metadata: []
`
	// SharedCache is the local profile's cache: one SQLite state store
	// that every sidecar of the env shares, as the stamps that keep
	// in-process caches coherent require.
	SharedCache = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: cache
spec:
  type: state.sqlite
  version: v1
  metadata:
    - name: connectionString
      value: ${DIR}/cache.db
    - name: keyPrefix
      value: none
    - name: busyTimeout
      value: 2s
`
	LocalImages = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: images
spec:
  type: bindings.localstorage
  version: v1
  metadata:
    - name: rootPath
      value: ${DIR}/images
`
	// LocalSecrets reads ${DIR}/secrets.json; write it with WriteSecrets.
	LocalSecrets = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: secrets
spec:
  type: secretstores.local.file
  version: v1
  metadata:
    - name: secretsFile
      value: ${DIR}/secrets.json
    - name: nestedSeparator
      value: ":"
`
)

// JetStreamPubSub is the pub/sub component of the local profile pointed at
// a NATS server on natsPort.
func JetStreamPubSub(natsPort int) string {
	return fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.jetstream
  version: v1
  metadata:
    - name: natsURL
      value: nats://127.0.0.1:%d
    - name: name
      value: "{appID}"
    - name: streamName
      value: pixshare
    - name: durableName
      value: "{appID}"
    - name: queueGroupName
      value: "{appID}"
    - name: deliverPolicy
      value: all
    - name: ackPolicy
      value: explicit
    - name: ackWait
      value: 5s
    - name: concurrency
      value: single
`, natsPort)
}

// WriteSecrets writes the secrets file read by LocalSecrets.
func (e *Env) WriteSecrets(t testing.TB, json string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(e.Dir, "secrets.json"), []byte(json), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Sidecar is a running daprd. Like `make run`, every test sidecar requires
// an API token from its app and sends one to it.
type Sidecar struct {
	AppID        string
	HTTPPort     int
	GRPCPort     int
	AppPort      int
	DaprAPIToken string
	AppAPIToken  string
	bin, dir     string
	args         []string
	cmd          *exec.Cmd
	logs         *syncbuf.Buffer
	done         chan struct{}
}

// Start runs a daprd for appID calling the app on appPort (gRPC) and
// returns once its outbound side is ready. The sidecar is stopped when t
// ends; its log is printed if t failed.
func (e *Env) Start(t testing.TB, appID string, appPort int, extraArgs ...string) *Sidecar {
	t.Helper()
	s := &Sidecar{AppID: appID, AppPort: appPort, logs: &syncbuf.Buffer{}, bin: Daprd(t), dir: e.Dir}
	s.DaprAPIToken, s.AppAPIToken = e.Tokens(appID)
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("daprd %s log:\n%s", appID, s.logs.String())
		}
	})
	// A port picked by FreePort can be taken by another process before
	// daprd binds it; then daprd exits at once and another set is tried.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		s.HTTPPort, s.GRPCPort = FreePort(t), FreePort(t)
		s.args = append([]string{
			"--app-id", appID,
			"--app-port", strconv.Itoa(appPort),
			"--app-protocol", "grpc",
			"--app-channel-address", "127.0.0.1",
			"--dapr-http-port", strconv.Itoa(s.HTTPPort),
			"--dapr-grpc-port", strconv.Itoa(s.GRPCPort),
			"--dapr-internal-grpc-port", strconv.Itoa(FreePort(t)),
			"--dapr-internal-grpc-listen-address", "127.0.0.1",
			"--dapr-listen-addresses", "127.0.0.1",
			"--metrics-port", strconv.Itoa(FreePort(t)),
			"--resources-path", e.Resources,
			"--config", e.ConfigFile,
			"--max-body-size", "64Mi",
			"--log-level", "info",
		}, extraArgs...)
		if err = s.run(); err == nil {
			return s
		}
	}
	t.Fatalf("daprd %s: %v\n%s", appID, err, s.logs.String())
	return nil
}

// run starts the daprd process and waits for its outbound side.
func (s *Sidecar) run() error {
	s.done = make(chan struct{})
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Dir = s.dir
	s.cmd.Env = append(os.Environ(), "DAPR_HOST_IP=127.0.0.1",
		"DAPR_API_TOKEN="+s.DaprAPIToken, "APP_API_TOKEN="+s.AppAPIToken)
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start daprd: %w", err)
	}
	done := s.done
	go func() {
		_ = s.cmd.Wait()
		close(done)
	}()
	return s.waitOutbound(60 * time.Second)
}

// Restart starts a stopped or killed sidecar again on the same ports.
func (s *Sidecar) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.run(); err != nil {
		t.Fatalf("restart daprd %s: %v\n%s", s.AppID, err, s.logs.String())
	}
}

func (s *Sidecar) waitOutbound(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	url := fmt.Sprintf("http://127.0.0.1:%d/v1.0/healthz/outbound", s.HTTPPort)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("exited early")
		default:
		}
		res, err := http.Get(url)
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode/100 == 2 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s", timeout)
}

// WaitApp waits until the sidecar reports the app connected (healthz 2xx,
// which needs the app channel and subscriptions in place).
func (s *Sidecar) WaitApp(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	url := fmt.Sprintf("http://127.0.0.1:%d/v1.0/healthz", s.HTTPPort)
	for time.Now().Before(deadline) {
		res, err := http.Get(url)
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode/100 == 2 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("daprd %s: app not connected after 60s\n%s", s.AppID, s.logs.String())
}

// Logs returns what the sidecar printed so far.
func (s *Sidecar) Logs() string { return s.logs.String() }

// Stop terminates the sidecar (whole process group) and waits.
func (s *Sidecar) Stop() {
	if s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// Kill stops the sidecar at once (fault tests).
func (s *Sidecar) Kill() {
	if s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// AppEnv returns the environment an app beside this sidecar reads.
func (s *Sidecar) AppEnv() map[string]string {
	return map[string]string{
		"APP_ID":         s.AppID,
		"APP_PORT":       strconv.Itoa(s.AppPort),
		"DAPR_HTTP_PORT": strconv.Itoa(s.HTTPPort),
		"DAPR_GRPC_PORT": strconv.Itoa(s.GRPCPort),
		"DAPR_API_TOKEN": s.DaprAPIToken,
		"APP_API_TOKEN":  s.AppAPIToken,
	}
}

func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// WaitFor polls cond until it holds or the timeout passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		if cond() {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
