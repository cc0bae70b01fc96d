package deploy

import (
	"context"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"k8s.io/apimachinery/pkg/api/resource"
)

const daprdImage = "daprio/daprd:1.14.0"

// loadCompose loads docker-compose.yml as `docker compose` would (schema
// validation, interpolation with an empty environment so defaults apply,
// merge keys, consistency checks), with paths made absolute.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	repo := root(t)
	details := types.ConfigDetails{
		WorkingDir:  repo,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(repo, "docker-compose.yml")}},
		Environment: types.Mapping{},
	}
	p, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName("pixshare", true)
		o.ResolvePaths = true
	})
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return p
}

func env(s types.ServiceConfig, key string) string {
	if v := s.Environment[key]; v != nil {
		return *v
	}
	return ""
}

// flag returns the value of --name (or -name) in a daprd command line.
func flag(cmd []string, name string) (string, bool) {
	for i, a := range cmd {
		a = strings.TrimLeft(a, "-")
		if a == name && i+1 < len(cmd) {
			return cmd[i+1], true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

func port(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

// mountOf returns the volume mounted at or above target in s.
func mountOf(s types.ServiceConfig, target string) (types.ServiceVolumeConfig, bool) {
	for _, v := range s.Volumes {
		if target == v.Target || strings.HasPrefix(target, strings.TrimSuffix(v.Target, "/")+"/") {
			return v, true
		}
	}
	return types.ServiceVolumeConfig{}, false
}

// TestComposeSidecars: every app has a `<app>-dapr` sidecar in its network
// namespace, running daprd 1.14.0 with its app id, its APP_PORT, gRPC, the
// compose profile and a body limit above the upload limit.
func TestComposeSidecars(t *testing.T) {
	repo := root(t)
	p := loadCompose(t)
	internalPorts := map[string]bool{}
	for _, a := range apps {
		svc, ok := p.Services[a.id]
		if !ok {
			t.Errorf("no service %q", a.id)
			continue
		}
		if svc.Build == nil || svc.Build.Args["APP"] == nil || *svc.Build.Args["APP"] != a.id {
			t.Errorf("%s: must be built with build arg APP=%s", a.id, a.id)
		} else if want := filepath.Join(repo, "deploy", "docker", "Dockerfile"); svc.Build.Dockerfile != want && filepath.Join(svc.Build.Context, svc.Build.Dockerfile) != want {
			t.Errorf("%s: built from %q, want deploy/docker/Dockerfile", a.id, svc.Build.Dockerfile)
		}
		if got := env(svc, "APP_PORT"); got != strconv.Itoa(a.appPort) {
			t.Errorf("%s: APP_PORT = %q, want %d (the port plan of dapr.yaml)", a.id, got, a.appPort)
		}
		// Only the sidecar may reach the gRPC port (deliveries are streamed
		// from the sidecar and refused there: platform/grpcserver).
		if got := env(svc, "APP_HOST"); got != "127.0.0.1" {
			t.Errorf("%s: APP_HOST = %q, want 127.0.0.1 (the app port must stay private to its sidecar)", a.id, got)
		}
		if got := env(svc, "HTTP_ADDR"); got != net.JoinHostPort("0.0.0.0", strconv.Itoa(a.httpPort)) {
			t.Errorf("%s: HTTP_ADDR = %q, want 0.0.0.0:%d", a.id, got, a.httpPort)
		}

		side, ok := p.Services[a.id+"-dapr"]
		if !ok {
			t.Errorf("%s: no sidecar service %s-dapr", a.id, a.id)
			continue
		}
		if side.Image != daprdImage {
			t.Errorf("%s-dapr: image %q, want %s", a.id, side.Image, daprdImage)
		}
		if side.NetworkMode != "service:"+a.id {
			t.Errorf("%s-dapr: network_mode %q, want service:%s (the app's network namespace)", a.id, side.NetworkMode, a.id)
		}
		if d, ok := side.DependsOn[a.id]; !ok || d.Condition != types.ServiceConditionStarted {
			t.Errorf("%s-dapr: must depend on %s (service_started; the app's health needs the sidecar)", a.id, a.id)
		}
		cmd := []string(side.Command)
		if len(cmd) == 0 || path.Base(cmd[0]) != "daprd" {
			t.Errorf("%s-dapr: command %q does not run daprd", a.id, cmd)
			continue
		}
		want := map[string]string{
			"app-id":       a.id,
			"app-port":     env(svc, "APP_PORT"),
			"app-protocol": "grpc",
		}
		for k, v := range want {
			if got, _ := flag(cmd, k); got != v {
				t.Errorf("%s-dapr: --%s = %q, want %q", a.id, k, got, v)
			}
		}
		if got, _ := flag(cmd, "dapr-grpc-port"); got != env(svc, "DAPR_GRPC_PORT") {
			t.Errorf("%s-dapr: --dapr-grpc-port = %q but the app dials DAPR_GRPC_PORT=%q", a.id, got, env(svc, "DAPR_GRPC_PORT"))
		}
		if got, _ := flag(cmd, "dapr-http-port"); got != env(svc, "DAPR_HTTP_PORT") {
			t.Errorf("%s-dapr: --dapr-http-port = %q but the app uses DAPR_HTTP_PORT=%q", a.id, got, env(svc, "DAPR_HTTP_PORT"))
		}
		internal, _ := flag(cmd, "dapr-internal-grpc-port")
		internalPorts[internal] = true

		res, _ := flag(cmd, "resources-path")
		cfg, _ := flag(cmd, "config")
		m, ok := mountOf(side, res)
		if !ok || m.Source != filepath.Join(repo, "components", "compose") || m.Target != res || !m.ReadOnly {
			t.Errorf("%s-dapr: --resources-path %q must be components/compose mounted read-only", a.id, res)
		}
		if path.Dir(cfg) != res || path.Base(cfg) != "config.yaml" {
			t.Errorf("%s-dapr: --config %q, want %s/config.yaml", a.id, cfg, res)
		}
		size, _ := flag(cmd, "max-body-size")
		q, err := resource.ParseQuantity(size)
		if err != nil || q.Value() <= 22085632 { // the gateway's upload limit
			t.Errorf("%s-dapr: --max-body-size %q must exceed the upload limit (21 MiB + framing)", a.id, size)
		}
		if got, _ := flag(cmd, "dapr-listen-addresses"); got != "127.0.0.1" {
			t.Errorf("%s-dapr: --dapr-listen-addresses %q, want 127.0.0.1 (only the app reaches the Dapr API)", a.id, got)
		}
	}
	// The DNS template {{.ID}}:{{.Port}} uses the caller's own internal
	// port, so all sidecars must listen on the same one.
	if len(internalPorts) != 1 || internalPorts[""] {
		t.Errorf("every sidecar must set the same --dapr-internal-grpc-port, got %v", internalPorts)
	}
	for name, s := range p.Services {
		if s.Image == daprdImage || strings.HasPrefix(s.Image, "daprio/daprd") {
			id := strings.TrimSuffix(name, "-dapr")
			if _, ok := appByID(id); !ok || name != id+"-dapr" {
				t.Errorf("%s runs daprd but is not the sidecar of an app", name)
			}
		}
	}
}

// TestComposeSidecarVolumes: the images volume is mounted where the compose
// images component writes, in exactly the sidecars the component is scoped
// to; the same for the secrets file.
func TestComposeSidecarVolumes(t *testing.T) {
	p := loadCompose(t)
	prof := loadProfiles(t)["compose"]
	if prof == nil {
		t.Fatal("no components/compose")
	}
	for comp, key := range map[string]string{"images": "rootPath", "secrets": "secretsFile"} {
		c := prof.components[comp]
		if c == nil {
			t.Errorf("components/compose has no %s", comp)
			continue
		}
		target, _ := metadataValue(c, key)
		var volume string
		for _, a := range apps {
			side := p.Services[a.id+"-dapr"]
			m, mounted := mountOf(side, target)
			scoped := contains(c.Scopes, a.id)
			switch {
			case scoped && !mounted:
				t.Errorf("%s-dapr: %s (%s) is not on a volume", a.id, comp, target)
			case !scoped && mounted && m.Type == types.VolumeTypeVolume:
				t.Errorf("%s-dapr: mounts the %s volume but %s is not scoped to %s", a.id, comp, comp, a.id)
			case scoped:
				if m.Type != types.VolumeTypeVolume {
					t.Errorf("%s-dapr: %s must be a named volume, got %s", a.id, target, m.Type)
				}
				if volume != "" && m.Source != volume {
					t.Errorf("%s-dapr: %s on volume %q, others on %q", a.id, comp, m.Source, volume)
				}
				volume = m.Source
			}
		}
		if _, ok := p.Volumes[volume]; volume != "" && !ok {
			t.Errorf("volume %q is not declared", volume)
		}
	}
}

// TestComposeOnlyGatewayPublishes: clients reach the gateway alone; the
// one other port is Mailpit's inbox, on the host's loopback only.
func TestComposeOnlyGatewayPublishes(t *testing.T) {
	p := loadCompose(t)
	for name, s := range p.Services {
		if name == "gateway" {
			continue
		}
		if name == "mailpit" {
			if len(s.Ports) != 1 || s.Ports[0].HostIP != "127.0.0.1" || s.Ports[0].Target != 8025 {
				t.Errorf("mailpit must publish its inbox on 127.0.0.1 only, got %+v", s.Ports)
			}
			continue
		}
		if len(s.Ports) > 0 {
			t.Errorf("%s publishes ports %v; only the gateway may", name, s.Ports)
		}
	}
	gw := p.Services["gateway"]
	if len(gw.Ports) != 1 || gw.Ports[0].Target != 8080 || gw.Ports[0].Published != "8080" {
		t.Errorf("gateway must publish exactly 8080:8080, got %+v", gw.Ports)
	}
	if port(env(gw, "HTTP_ADDR")) != 8080 {
		t.Errorf("gateway HTTP_ADDR %q does not listen on the published port", env(gw, "HTTP_ADDR"))
	}
	// The gateway reaches each service's REST port by its service name.
	for key, id := range map[string]string{"GATEWAY_USER_URL": "user", "GATEWAY_POST_URL": "post", "GATEWAY_COMMENT_URL": "comment", "GATEWAY_SEARCH_URL": "search"} {
		u, err := url.Parse(env(gw, key))
		a, _ := appByID(id)
		if err != nil || u.Hostname() != id || u.Port() != strconv.Itoa(a.httpPort) {
			t.Errorf("gateway %s = %q, want http://%s:%d", key, env(gw, key), id, a.httpPort)
		}
	}
}

var tagged = regexp.MustCompile(`^[^@]+:([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$|@sha256:[0-9a-f]{64}$`)

// pinned reports whether an image reference names a tag other than
// latest (or a digest). A registry port (host:5000/x) is not a tag.
func pinned(ref string) bool {
	last := ref[strings.LastIndex(ref, "/")+1:]
	if strings.Contains(ref, "@sha256:") {
		return tagged.MatchString(ref)
	}
	m := tagged.FindStringSubmatch(last)
	return m != nil && m[1] != "latest"
}

func TestComposeImagesPinned(t *testing.T) {
	p := loadCompose(t)
	for name, s := range p.Services {
		if s.Image == "" {
			t.Errorf("%s has no image (built images need a name:tag too)", name)
			continue
		}
		if !pinned(s.Image) {
			t.Errorf("%s: image %q is not pinned to a tag (and never latest)", name, s.Image)
		}
	}
}

// TestDockerfile: multi-stage, every base image pinned, the app chosen by
// a build argument, a static trimmed build, and a non-root final stage.
func TestDockerfile(t *testing.T) {
	repo := root(t)
	data, err := os.ReadFile(filepath.Join(repo, "deploy", "docker", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	args := map[string]string{}
	var froms []string
	user := ""
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "ARG":
			if k, v, ok := strings.Cut(f[1], "="); ok && len(froms) == 0 {
				args[k] = v
			}
		case "FROM":
			img := os.Expand(f[1], func(k string) string { return args[k] })
			froms = append(froms, img)
			user = ""
		case "USER":
			user = f[1]
		}
	}
	if len(froms) < 2 {
		t.Errorf("Dockerfile has %d stages, want a multi-stage build", len(froms))
	}
	for _, img := range froms {
		if !pinned(img) {
			t.Errorf("Dockerfile: base image %q is not pinned to a tag", img)
		}
	}
	if len(froms) > 0 && !strings.HasPrefix(froms[0], "golang:1.26") {
		t.Errorf("Dockerfile: builder %q, want golang:1.26…", froms[0])
	}
	if user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") {
		t.Errorf("Dockerfile: the final stage must run as a non-root USER, got %q", user)
	}
	// SQLite is compiled in through cgo: the builder needs a C compiler
	// and libc headers, and the final image the same C library the
	// binary was linked against (musl on both sides).
	for _, want := range []string{"CGO_ENABLED=1", "gcc", "musl-dev", "-trimpath", "ARG APP"} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if len(froms) >= 2 {
		builderMusl := strings.Contains(froms[0], "alpine")
		finalMusl := strings.HasPrefix(froms[len(froms)-1], "alpine")
		if builderMusl != finalMusl {
			t.Errorf("Dockerfile: builder %q and final image %q do not share a C library", froms[0], froms[len(froms)-1])
		}
	}
	ignore, err := os.ReadFile(filepath.Join(repo, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(ignore))
	for _, want := range []string{"bin/", ".data/", ".git"} {
		if !contains(lines, want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
}

// TestComposeHealthAndOrder: infrastructure and apps have health checks,
// and every service waits for what it talks to.
// TestDockerfileBuildsEveryApp maps each app of the Dockerfile's APP switch
// to the module it names and checks that <module>/cmd/<app> exists: an app
// moved between modules must not leave an image that cannot build.
func TestDockerfileBuildsEveryApp(t *testing.T) {
	repo := root(t)
	data, err := os.ReadFile(filepath.Join(repo, "deploy", "docker", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	arm := regexp.MustCompile(`^\s*([a-z|]+)\) module=("\$APP"|[a-z]+) ;;`)
	seen := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		m := arm.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, app := range strings.Split(m[1], "|") {
			module := m[2]
			if module == `"$APP"` {
				module = app
			}
			seen[app] = true
			if _, err := os.Stat(filepath.Join(repo, module, "cmd", app)); err != nil {
				t.Errorf("Dockerfile builds %s from ./%s/cmd/%s, which does not exist", app, module, app)
			}
		}
	}
	cmds, _ := filepath.Glob(filepath.Join(repo, "*", "cmd", "*"))
	for _, dir := range cmds {
		if app := filepath.Base(dir); !seen[app] {
			t.Errorf("Dockerfile cannot build %s (%s)", app, dir)
		}
	}
}

func TestComposeHealthAndOrder(t *testing.T) {
	p := loadCompose(t)
	infra := []string{"postgres", "redis", "elasticsearch"}
	for _, name := range infra {
		s, ok := p.Services[name]
		if !ok {
			t.Errorf("no %s service", name)
			continue
		}
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
			t.Errorf("%s has no health check", name)
		}
	}
	for _, a := range apps {
		s := p.Services[a.id]
		if s.HealthCheck == nil || s.HealthCheck.Disable || !strings.Contains(strings.Join(s.HealthCheck.Test, " "), strconv.Itoa(a.httpPort)+"/readyz") {
			t.Errorf("%s: health check must probe its /readyz on %d", a.id, a.httpPort)
		}
		needs := map[string]bool{}
		// A database URL or search engine host in the app's environment.
		for _, key := range []string{"DATABASE_URL", "ELASTICSEARCH_URL"} {
			if u, err := url.Parse(env(s, key)); err == nil && u.Hostname() != "" {
				if key == "DATABASE_URL" || env(s, "SEARCH_ENGINE") == "elasticsearch" {
					needs[u.Hostname()] = true
				}
			}
		}
		// Redis behind its sidecar's components.
		if contains(componentScopes["pubsub"], a.id) || contains(componentScopes["cache"], a.id) {
			needs["redis"] = true
		}
		// The apps it calls through Dapr.
		for _, c := range allowedCalls {
			if c.caller == a.id {
				needs[c.callee] = true
			}
		}
		if a.id == "gateway" {
			for _, id := range []string{"user", "post", "comment", "search"} {
				needs[id] = true
			}
		}
		delete(needs, a.id)
		for dep := range needs {
			if _, ok := p.Services[dep]; !ok {
				t.Errorf("%s: talks to %q, which is no service", a.id, dep)
				continue
			}
			if d, ok := s.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s: must depend on %s with condition service_healthy", a.id, dep)
			}
		}
	}
	// Sidecars that read prepared volumes wait for the one-shot init.
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeVolume && (v.Source == "secrets" || v.Source == "images") && name != "init" {
				if d, ok := s.DependsOn["init"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
					t.Errorf("%s: mounts %s and must wait for init (service_completed_successfully)", name, v.Source)
				}
			}
		}
	}
}

// TestComposeSearchOnElasticsearch: search and indexer share one
// Elasticsearch single node with bounded memory.
func TestComposeSearchOnElasticsearch(t *testing.T) {
	p := loadCompose(t)
	es, ok := p.Services["elasticsearch"]
	if !ok {
		t.Fatal("no elasticsearch service")
	}
	if !regexp.MustCompile(`elasticsearch:8\.\d+\.\d+$`).MatchString(es.Image) {
		t.Errorf("elasticsearch image %q, want a pinned 8.x.y tag", es.Image)
	}
	if env(es, "discovery.type") != "single-node" {
		t.Errorf("elasticsearch must run with discovery.type=single-node")
	}
	if es.MemLimit == 0 && (es.Deploy == nil || es.Deploy.Resources.Limits == nil || es.Deploy.Resources.Limits.MemoryBytes == 0) {
		t.Errorf("elasticsearch has no memory limit")
	}
	if !strings.Contains(env(es, "ES_JAVA_OPTS"), "-Xmx") {
		t.Errorf("elasticsearch: ES_JAVA_OPTS must bound the heap (-Xmx)")
	}
	for _, id := range []string{"search", "indexer"} {
		s := p.Services[id]
		if env(s, "SEARCH_ENGINE") != "elasticsearch" {
			t.Errorf("%s: SEARCH_ENGINE = %q, want elasticsearch", id, env(s, "SEARCH_ENGINE"))
		}
		if u, err := url.Parse(env(s, "ELASTICSEARCH_URL")); err != nil || u.Hostname() != "elasticsearch" || u.Port() != "9200" {
			t.Errorf("%s: ELASTICSEARCH_URL = %q, want http://elasticsearch:9200", id, env(s, "ELASTICSEARCH_URL"))
		}
	}
}

// TestComposeDatabases: every app with a database has a PostgreSQL URL,
// one database per service (search and indexer share the read model), and
// the init script creates each.
func TestComposeDatabases(t *testing.T) {
	p := loadCompose(t)
	pg := p.Services["postgres"]
	if !strings.HasPrefix(pg.Image, "postgres:16") || !strings.Contains(pg.Image, "alpine") {
		t.Errorf("postgres image %q, want postgres:16…-alpine", pg.Image)
	}
	var script string
	for _, v := range pg.Volumes {
		if strings.HasPrefix(v.Target, "/docker-entrypoint-initdb.d/") {
			data, err := os.ReadFile(v.Source)
			if err != nil {
				t.Fatalf("postgres init script: %v", err)
			}
			script = string(data)
		}
	}
	if script == "" {
		t.Fatal("postgres mounts no init script into /docker-entrypoint-initdb.d")
	}
	owner := map[string]string{}
	for _, a := range apps {
		s := p.Services[a.id]
		raw := env(s, "DATABASE_URL")
		if !a.database {
			if raw != "" {
				t.Errorf("%s has a DATABASE_URL but no database", a.id)
			}
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "postgres" || u.Hostname() != "postgres" {
			t.Errorf("%s: DATABASE_URL %q, want postgres://…@postgres:5432/…", a.id, raw)
			continue
		}
		db := strings.TrimPrefix(u.Path, "/")
		if prev, ok := owner[db]; ok && !(db == "search" && (prev == "search" || prev == "indexer")) {
			t.Errorf("%s and %s share database %q", prev, a.id, db)
		}
		owner[db] = a.id
		create := regexp.MustCompile(`(?i)CREATE DATABASE\s+"?` + regexp.QuoteMeta(db) + `"?\s*;`)
		if !create.MatchString(script) {
			t.Errorf("%s: the postgres init script does not create database %q", a.id, db)
		}
	}
}
