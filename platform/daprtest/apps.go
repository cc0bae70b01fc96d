package daprtest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"gorm.io/gorm"

	"pixshare/platform/database"
	"pixshare/platform/natsbroker"
	"pixshare/platform/syncbuf"
)

// binaries caches the apps built during one test process.
var binaries sync.Map // package path -> *buildResult

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// Binary builds the Go command at pkg (e.g. "pixshare/user/cmd/user") once
// per test process and returns its path.
func Binary(t testing.TB, pkg string) string {
	t.Helper()
	v, _ := binaries.LoadOrStore(pkg, &buildResult{})
	res := v.(*buildResult)
	res.once.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			res.err = err
			return
		}
		dir, err := os.MkdirTemp("", "pixshare-bin-")
		if err != nil {
			res.err = err
			return
		}
		res.path = filepath.Join(dir, filepath.Base(pkg))
		cmd := exec.Command("go", "build", "-o", res.path, pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			res.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	return res.path
}

// App is a Pixshare app running as a process beside its own sidecar.
type App struct {
	ID      string
	BaseURL string
	Side    *Sidecar
	Env     map[string]string
	dir     string
	cmd     *exec.Cmd
	logs    *syncbuf.Buffer
	done    chan struct{}
}

// StartApp builds and runs the command pkg as app id beside a new sidecar,
// with env added to what the app needs to find its sidecar, and waits until
// its /readyz answers 200. DATABASE_URL defaults to a SQLite file in the
// env's directory. The app and its sidecar stop when t ends.
func (e *Env) StartApp(t testing.TB, id, pkg string, env map[string]string) *App {
	t.Helper()
	bin := Binary(t, pkg)
	appPort, httpPort := FreePort(t), FreePort(t)
	side := e.Start(t, id, appPort)
	a := &App{ID: id, BaseURL: "http://127.0.0.1:" + strconv.Itoa(httpPort), Side: side,
		Env: map[string]string{}, dir: e.Dir, logs: &syncbuf.Buffer{}, done: make(chan struct{})}
	for k, v := range side.AppEnv() {
		a.Env[k] = v
	}
	a.Env["HTTP_ADDR"] = "127.0.0.1:" + strconv.Itoa(httpPort)
	a.Env["DATABASE_URL"] = "sqlite://" + filepath.Join(e.Dir, id+".db")
	a.Env["LOG_LEVEL"] = "info"
	for k, v := range env {
		a.Env[k] = v
	}
	a.start(t, bin)
	t.Cleanup(func() {
		a.Stop()
		if t.Failed() {
			t.Logf("%s log:\n%s", id, a.logs.String())
		}
	})
	a.WaitReady(t)
	side.WaitApp(t)
	return a
}

func (a *App) start(t testing.TB, bin string) {
	t.Helper()
	a.cmd = exec.Command(bin)
	a.cmd.Dir = a.dir
	a.cmd.Env = os.Environ()
	for k, v := range a.Env {
		a.cmd.Env = append(a.cmd.Env, k+"="+v)
	}
	a.cmd.Stdout = a.logs
	a.cmd.Stderr = a.logs
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", a.ID, err)
	}
	done := make(chan struct{})
	a.done = done
	go func() {
		_ = a.cmd.Wait()
		close(done)
	}()
}

// WaitReady waits until the app's /readyz answers 200.
func (a *App) WaitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-a.done:
			t.Fatalf("%s exited during start-up:\n%s", a.ID, a.logs.String())
		default:
		}
		res, err := http.Get(a.BaseURL + "/readyz")
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready after 60s:\n%s", a.ID, a.logs.String())
}

// Logs returns what the app printed so far.
func (a *App) Logs() string { return a.logs.String() }

// Stop sends SIGTERM and waits (SIGKILL after 15 s).
func (a *App) Stop() {
	if a.cmd == nil || a.cmd.Process == nil {
		return
	}
	select {
	case <-a.done:
		return
	default:
	}
	_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
		<-a.done
	}
}

// Kill stops the app at once, as a crash would.
func (a *App) Kill() {
	if a.cmd != nil && a.cmd.Process != nil {
		_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
		<-a.done
	}
}

// Restart starts the app again (same ports, database and sidecar), with
// env changes applied.
func (a *App) Restart(t testing.TB, env map[string]string) {
	t.Helper()
	a.Stop()
	for k, v := range env {
		a.Env[k] = v
	}
	a.start(t, a.cmd.Path)
	a.WaitReady(t)
}

// Broker is an embedded NATS JetStream server with the project's stream.
type Broker struct {
	*natsbroker.Broker
	Port   int
	dir    string
	topics []string
}

// StartBroker runs the embedded broker on a free port with data in a temp
// dir, creating the stream with a subject per topic (contracts/events
// lists them).
func StartBroker(t testing.TB, topics []string) *Broker {
	t.Helper()
	port := FreePort(t)
	return startBrokerAt(t, port, t.TempDir(), topics)
}

func startBrokerAt(t testing.TB, port int, dir string, topics []string) *Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := natsbroker.Start(ctx, port, dir, t.Logf)
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(b.Shutdown)
	err = natsbroker.EnsureStream(ctx, b.URL(), natsbroker.Stream{
		Name: "pixshare", Subjects: topics, MaxAge: time.Hour, MaxBytes: 256 << 20,
	})
	if err != nil {
		t.Fatalf("create stream: %v", err)
	}
	return &Broker{Broker: b, Port: port, dir: dir, topics: topics}
}

// RestartBroker starts a broker again on b's port with its data, after
// b.Shutdown (fault tests).
func RestartBroker(t testing.TB, b *Broker) *Broker {
	t.Helper()
	return startBrokerAt(t, b.Port, b.dir, b.topics)
}

// OpenDB opens the app's database (SQLite in WAL mode allows a reader
// beside the running app) and closes it when t ends.
func OpenDB(t testing.TB, a *App) *gorm.DB {
	t.Helper()
	db, err := database.Open(context.Background(), database.Config{URL: a.Env["DATABASE_URL"], MaxOpenConns: 1}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	return db
}

// WaitDrained waits until the app id's durable consumer has acknowledged
// every message published so far.
func (b *Broker) WaitDrained(t testing.TB, appID string) {
	t.Helper()
	WaitFor(t, 60*time.Second, appID+" to drain its topic", func() bool {
		n, err := natsbroker.Backlog(b.URL(), "pixshare", appID)
		return err == nil && n == 0
	})
}

// Signal sends sig to the app's process group (SIGTERM to test graceful
// stops) and waits for it to exit.
func (a *App) Signal(sig syscall.Signal) {
	if a.cmd == nil || a.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-a.cmd.Process.Pid, sig)
	<-a.done
}
