// Package nginx runs a private nginx as the gateway's peer in the ceiling
// phase: a reverse proxy to the post service (the same warm read the
// gateway proxies) and a static file server (the same image bytes the
// gateway streams). Everything it writes lives in one temporary directory:
// configuration, pid file, temp dirs, logs and the files it serves.
package nginx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pixshare/tools/load/internal/procs"
)

// Package is the Debian package with the nginx binary (on bookworm,
// nginx-light and nginx-full are only metapackages over it).
const Package = "nginx"

// candidates are where nginx is looked for when no binary is named.
var candidates = []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"}

// Find returns the nginx binary: bin when set, else nginx on PATH or in
// the usual sbin folders. When none is found and install is set, it
// installs Debian's package with apt-get (as root only) and looks again.
// The error says why there is no nginx.
func Find(ctx context.Context, bin string, install bool, logf func(string, ...any)) (string, error) {
	if bin != "" {
		p, err := exec.LookPath(bin)
		if err != nil {
			return "", fmt.Errorf("nginx: %w", err)
		}
		return p, nil
	}
	if p, ok := look(); ok {
		return p, nil
	}
	if !install {
		return "", errors.New("nginx: not on PATH nor in /usr/sbin, and -nginx-install=false")
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("nginx: not found, and installing it needs root (apt-get install %s)", Package)
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", fmt.Errorf("nginx: not found, and no apt-get to install it: %w", err)
	}
	if logf != nil {
		logf("load: nginx not found: installing Debian's %s package (apt-get install -y %s; -nginx-install=false or -nginx=off to skip)", Package, Package)
	}
	if err := aptInstall(ctx); err != nil {
		return "", err
	}
	if p, ok := look(); ok {
		return p, nil
	}
	return "", fmt.Errorf("nginx: apt-get installed %s, yet no nginx binary is on PATH or in /usr/sbin", Package)
}

func look() (string, bool) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, true
	}
	for _, c := range candidates {
		if info, err := os.Stat(c); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return c, true
		}
	}
	return "", false
}

// aptInstall installs the package; when apt has no package lists yet (a
// fresh machine), it updates them once and tries again.
func aptInstall(ctx context.Context) error {
	run := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	install := []string{"install", "-y", "--no-install-recommends", Package}
	out, err := run(install...)
	if err == nil {
		return nil
	}
	if uout, uerr := run("update"); uerr != nil {
		return fmt.Errorf("nginx: apt-get install %s: %w\n%s\napt-get update: %v\n%s", Package, err, tail(out), uerr, tail(uout))
	}
	if out, err = run(install...); err != nil {
		return fmt.Errorf("nginx: apt-get install %s: %w\n%s", Package, err, tail(out))
	}
	return nil
}

func tail(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}

// Config is one nginx run.
type Config struct {
	Binary string
	// Upstream is the post service's HTTP address, host:port.
	Upstream string
	// Workers is worker_processes: a count or "auto" (one per core).
	Workers string
	// AccessLog writes one line per request to logs/access.log, as the
	// gateway writes one access-log line per proxied request.
	AccessLog bool
}

// Server is a running nginx.
type Server struct {
	// Addr is host:port of its one listener; Dir its directory.
	Addr, Dir string
	// Version is what nginx -v says.
	Version string
	// Config is what it runs with; Conf the nginx.conf written.
	Config  Config
	Conf    string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// ReadyPath answers 204 once nginx serves.
const ReadyPath = "/pixshare-nginx-ready"

// StaticPrefix is the URL path of the files Put writes.
const StaticPrefix = "/static/"

// Conf is the nginx.conf of a run in dir, listening on 127.0.0.1:port.
// runAs is the user directive ("" = none, for a master that is not root).
func Conf(dir string, port int, cfg Config, runAs string) string {
	access := "access_log off;"
	if cfg.AccessLog {
		access = "access_log " + filepath.Join(dir, "logs", "access.log") + " combined;"
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# Written by tools/load for one ceiling phase; nginx runs in the foreground under the tool.")
	w("daemon off;")
	w("master_process on;")
	w("worker_processes %s;", cfg.Workers)
	if runAs != "" {
		w("user %s;", runAs)
	}
	w("pid %s;", filepath.Join(dir, "nginx.pid"))
	w("error_log %s warn;", filepath.Join(dir, "logs", "error.log"))
	w("events {")
	w("    worker_connections 1024;")
	w("}")
	w("http {")
	w("    types { image/jpeg jpg; application/json json; }")
	w("    default_type application/octet-stream;")
	w("    %s", access)
	w("    sendfile on;")
	w("    tcp_nopush on;")
	w("    tcp_nodelay on;")
	w("    # Go's server closes no keep-alive connection after a number of requests; neither does this peer.")
	w("    keepalive_requests 1000000;")
	w("    keepalive_timeout 75s;")
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		w("    %s_temp_path %s;", t, filepath.Join(dir, "tmp", t))
	}
	w("    upstream post {")
	w("        server %s;", cfg.Upstream)
	w("        keepalive 32;")
	w("        keepalive_requests 1000000;")
	w("    }")
	w("    server {")
	w("        listen 127.0.0.1:%d;", port)
	w("        server_name _;")
	w("        location = %s { access_log off; return 204; }", ReadyPath)
	w("        location %s { root %s; }", StaticPrefix, filepath.Join(dir, "www"))
	w("        location /v1/posts/ {")
	w("            proxy_pass http://post;")
	w("            proxy_http_version 1.1;")
	w("            proxy_set_header Connection \"\";")
	w("            # What the gateway adds to every proxied request.")
	w("            proxy_set_header X-Request-Id $request_id;")
	w("            proxy_set_header X-Forwarded-For $remote_addr;")
	w("            proxy_set_header X-Forwarded-Host $host;")
	w("            proxy_set_header X-Forwarded-Proto $scheme;")
	w("        }")
	w("        location / { return 404; }")
	w("    }")
	w("}")
	return b.String()
}

// Start writes the configuration into a new temporary directory, starts
// nginx on a free loopback port and waits until it answers.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Workers == "" {
		cfg.Workers = "auto"
	}
	dir, err := os.MkdirTemp("", "pixshare-nginx-")
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	s := &Server{Dir: dir, Config: cfg, exited: make(chan struct{})}
	fail := func(err error) (*Server, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	// Workers of a root master run as another user: they must reach the
	// files to serve.
	if err := os.Chmod(dir, 0o755); err != nil {
		return fail(fmt.Errorf("nginx: %w", err))
	}
	for _, d := range []string{"logs", "tmp", filepath.Join("www", strings.Trim(StaticPrefix, "/"))} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fail(fmt.Errorf("nginx: %w", err))
		}
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	conf := filepath.Join(dir, "nginx.conf")
	s.Conf = Conf(dir, port, cfg, runAs())
	if err := os.WriteFile(conf, []byte(s.Conf), 0o644); err != nil {
		return fail(fmt.Errorf("nginx: %w", err))
	}
	errLog := filepath.Join(dir, "logs", "error.log")
	args := []string{"-p", dir + "/", "-c", conf, "-e", errLog}
	if out, err := exec.CommandContext(ctx, cfg.Binary, "-v").CombinedOutput(); err == nil {
		s.Version = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "nginx version:"))
	}
	if s.Version == "" {
		s.Version = "nginx (version unknown)"
	}
	if out, err := exec.CommandContext(ctx, cfg.Binary, append(args, "-t", "-q")...).CombinedOutput(); err != nil {
		return fail(fmt.Errorf("nginx: configuration %s refused: %w\n%s", conf, err, strings.TrimSpace(string(out))))
	}
	s.cmd = exec.Command(cfg.Binary, args...)
	// Its own process group, so Stop reaches the workers too; SIGTERM
	// (nginx's fast shutdown, which stops the workers) if the tool dies.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		return fail(fmt.Errorf("nginx: start: %w", err))
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, 10*time.Second); err != nil {
		s.Stop()
		b, _ := os.ReadFile(errLog)
		return fail(fmt.Errorf("%w\n%s", err, tail(b)))
	}
	return s, nil
}

// runAs is the user directive a root master needs: the workers drop to
// nobody, whose group is nogroup on Debian and nobody elsewhere.
func runAs() string {
	if os.Geteuid() != 0 {
		return ""
	}
	for _, g := range []string{"nogroup", "nobody"} {
		if _, err := user.LookupGroup(g); err == nil {
			return "nobody " + g
		}
	}
	return ""
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("nginx: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Addr+ReadyPath, nil)
		if res, err := client.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusNoContent {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("nginx: exited at start: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("nginx: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nginx: %s did not answer %s within %s", s.Addr, ReadyPath, timeout)
		}
	}
}

// URL is the address of path on this nginx.
func (s *Server) URL(path string) string { return "http://" + s.Addr + path }

// Put writes a file that nginx serves at StaticPrefix+name.
func (s *Server) Put(name string, b []byte) (string, error) {
	if name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("nginx: file name %q", name)
	}
	path := filepath.Join(s.Dir, "www", strings.Trim(StaticPrefix, "/"), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return "", fmt.Errorf("nginx: %w", err)
	}
	return StaticPrefix + name, nil
}

// Processes names the master and its workers "nginx", for procs.Stack.
func (s *Server) Processes() (map[int]string, error) {
	master := s.cmd.Process.Pid
	out := map[int]string{master: "nginx"}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if st, err := procs.ParseStat(string(b)); err == nil && st.PPID == master {
			out[pid] = "nginx"
		}
	}
	return out, nil
}

// Workers counts the worker processes.
func (s *Server) Workers() int {
	p, err := s.Processes()
	if err != nil {
		return 0
	}
	return len(p) - 1
}

// Stop ends nginx and removes its directory. SIGTERM is nginx's fast
// shutdown: the master stops its workers, reaps them and exits (a
// graceful SIGQUIT would wait for the load's idle connections). The whole
// process group is killed if that takes more than 5 s.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
	}
	os.RemoveAll(s.Dir)
}
