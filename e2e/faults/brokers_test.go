package faults

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"pixshare/contracts/events"
	"pixshare/platform/daprtest"
	"pixshare/platform/natsbroker"
	"pixshare/platform/syncbuf"
)

// ProfilesEnv lists the broker profiles TestOnEveryBroker runs the fault
// scenarios on (comma-separated: local, redis, rabbitmq, nats, mqtt).
const ProfilesEnv = "PIXSHARE_FAULTS_PROFILES"

// brokerRun is the broker of one scenario, under the test's own control:
// the embedded JetStream, or a private redis-server, rabbitmq-server,
// nats-server or mosquitto on free loopback ports — never the machine's
// shared ones, which other suites use.
type brokerRun interface {
	// components are the pub/sub component (and, for the profiles of
	// components/, that profile's resiliency policies) addressed at it.
	components(t *testing.T) []string
	// restart stops the broker as an operator would (SIGTERM) and starts
	// it again on the same port with the same data.
	restart(t *testing.T)
	// lose drops the messages on topic that no subscriber has read, as if
	// the broker had lost them.
	lose(t *testing.T, topic string)
	// jetStream is the URL of a JetStream server ("" on other brokers),
	// where the checker reads the dead-letter topic directly.
	jetStream() string
}

// profile opens a broker per scenario.
type profile struct {
	name string
	// images is the size of the thumbnailer-kill scenario: ~100 on the
	// local profile; smaller elsewhere so that every profile fits the time
	// .ci/run allows (docs/reliability.md).
	images int
	open   func(t *testing.T, scenario string) brokerRun
	// known are scenarios the profile is known not to pass, with why
	// (docs/reliability.md): they skip, saying so.
	known map[string]string
}

// localProfile is the embedded JetStream with the test component
// (daprtest.JetStreamPubSub: a short ackWait, so a delivery lost with a
// killed sidecar comes back quickly).
func localProfile() profile {
	return profile{name: "local", images: 100, open: func(t *testing.T, _ string) brokerRun {
		return &localBroker{b: daprtest.StartBroker(t, events.Topics)}
	}}
}

type localBroker struct{ b *daprtest.Broker }

func (l *localBroker) components(*testing.T) []string {
	return []string{daprtest.JetStreamPubSub(l.b.Port)}
}
func (l *localBroker) jetStream() string { return l.b.URL() }
func (l *localBroker) restart(t *testing.T) {
	l.b.Shutdown()
	time.Sleep(3 * time.Second)
	l.b = daprtest.RestartBroker(t, l.b)
}
func (l *localBroker) lose(t *testing.T, topic string) {
	if err := natsbroker.Purge(l.b.URL(), "pixshare", topic); err != nil {
		t.Fatal(err)
	}
}

// newProfile returns the named profile, or skips t when its broker is not
// installed on this machine (.ci/run installs them).
func newProfile(t *testing.T, name string) profile {
	t.Helper()
	need := func(bin string) string {
		// RabbitMQ's own script first: Debian's wrapper on the PATH
		// (/usr/sbin/rabbitmq-server) switches to the rabbitmq user, who
		// cannot write the test's private directory.
		for _, dir := range []string{"/usr/lib/rabbitmq/bin/", "", "/usr/sbin/"} {
			if p, err := exec.LookPath(dir + bin); err == nil {
				return p
			}
		}
		t.Skipf("%s not installed: the %s profile needs a private broker it can restart (apt-get install %s)", bin, name, debianPackage[bin])
		return ""
	}
	switch name {
	case "local":
		return localProfile()
	case "redis":
		bin := need("redis-server")
		return profile{name: name, images: 50, open: func(t *testing.T, _ string) brokerRun { return startRedis(t, bin) }}
	case "nats":
		bin := need("nats-server")
		return profile{name: name, images: 50, open: func(t *testing.T, _ string) brokerRun { return startNATS(t, bin) }}
	case "mqtt":
		bin := need("mosquitto")
		return profile{name: name, images: 50, open: func(t *testing.T, _ string) brokerRun { return startMosquitto(t, bin) }}
	case "rabbitmq":
		bin := need("rabbitmq-server")
		// One node for the whole profile (it takes a minute to boot on a
		// busy machine), with a virtual host per scenario so that no
		// scenario sees another's queues.
		node := startRabbit(t, bin, scenarioNames())
		return profile{name: name, images: 50, open: func(t *testing.T, scenario string) brokerRun {
			return &rabbitVhost{node: node, vhost: scenario}
		}}
	}
	t.Fatalf("unknown profile %q (want local, redis, rabbitmq, nats or mqtt)", name)
	return profile{}
}

var debianPackage = map[string]string{"redis-server": "redis-server", "nats-server": "nats-server",
	"mosquitto": "mosquitto", "rabbitmq-server": "rabbitmq-server"}

// profileComponents reads components/<name>/pubsub.yaml and resiliency.yaml
// and points them at the private broker: every address in replace must be
// found, so a profile that names another address fails loudly instead of
// reaching a shared broker.
func profileComponents(t *testing.T, name string, replace map[string]string) []string {
	t.Helper()
	root, err := daprtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, file := range []string{"pubsub.yaml", "resiliency.yaml"} {
		b, err := os.ReadFile(filepath.Join(root, "components", name, file))
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		if file == "pubsub.yaml" {
			found := false
			for from, to := range replace {
				if strings.Contains(doc, from) {
					doc = strings.ReplaceAll(doc, from, to)
					found = true
				}
			}
			if !found {
				t.Fatalf("components/%s/pubsub.yaml names none of the addresses %v", name, replace)
			}
		}
		out = append(out, doc)
	}
	return out
}

// proc is a broker process in its own process group.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	logs *syncbuf.Buffer
}

// startProc starts a broker and waits until it accepts connections; it is
// stopped when owner ends (t itself, or the profile's test for a broker
// shared by its scenarios).
func startProc(t, owner *testing.T, port int, name string, args []string, env []string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(name, args...), done: make(chan struct{}), logs: &syncbuf.Buffer{}}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Dir = t.TempDir() // where a crashing Erlang VM writes its dump
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	owner.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), p.logs.String())
		}
	})
	// Ready when it accepts connections (RabbitMQ opens its AMQP listener
	// last, once booted).
	deadline := time.Now().Add(3 * time.Minute)
	for {
		select {
		case <-p.done:
			t.Fatalf("%s exited during start-up:\n%s", name, p.logs.String())
		default:
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			_ = c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not accepting connections on %d:\n%s", name, port, p.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop sends SIGTERM to the group and waits (SIGKILL after 60 s).
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	// A script's children (RabbitMQ's beam) may outlive it briefly.
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

// --- Redis Streams ---

type redisBroker struct {
	bin, dir string
	port     int
	p        *proc
}

func startRedis(t *testing.T, bin string) *redisBroker {
	r := &redisBroker{bin: bin, dir: t.TempDir(), port: daprtest.FreePort(t)}
	r.start(t)
	return r
}

// start runs redis-server with append-only persistence, as a deployment
// must (deploy/README.md): without it a restart empties the streams and
// their consumer groups.
func (r *redisBroker) start(t *testing.T) {
	r.p = startProc(t, t, r.port, r.bin, []string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--appendonly", "yes", "--save", ""}, nil)
}

func (r *redisBroker) components(t *testing.T) []string {
	return profileComponents(t, "redis", map[string]string{"localhost:6379": "127.0.0.1:" + strconv.Itoa(r.port)})
}
func (r *redisBroker) jetStream() string { return "" }
func (r *redisBroker) restart(t *testing.T) {
	r.p.stop()
	time.Sleep(3 * time.Second)
	r.start(t)
}

// lose deletes the topic's stream: the subscriber's group is created
// afterwards on an empty one.
func (r *redisBroker) lose(t *testing.T, topic string) {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(r.port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "*2\r\n$3\r\nDEL\r\n$%d\r\n%s\r\n", len(topic), topic)
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), ":1") {
		t.Fatalf("DEL %s: %q %v", topic, buf[:n], err)
	}
}

// --- NATS JetStream (external server) ---

type natsServer struct {
	bin, dir string
	port     int
	p        *proc
}

func startNATS(t *testing.T, bin string) *natsServer {
	n := &natsServer{bin: bin, dir: t.TempDir(), port: daprtest.FreePort(t)}
	n.start(t)
	// The stream must exist before the apps start, as on any real NATS
	// (components/nats/pubsub.yaml).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := natsbroker.EnsureStream(ctx, n.jetStream(), natsbroker.Stream{Name: "pixshare", Subjects: events.Topics,
		MaxAge: time.Hour, MaxBytes: 256 << 20}); err != nil {
		t.Fatal(err)
	}
	return n
}

func (n *natsServer) start(t *testing.T) {
	n.p = startProc(t, t, n.port, n.bin, []string{"-js", "-a", "127.0.0.1", "-p", strconv.Itoa(n.port), "-sd", n.dir}, nil)
}
func (n *natsServer) jetStream() string { return "nats://127.0.0.1:" + strconv.Itoa(n.port) }
func (n *natsServer) components(t *testing.T) []string {
	return profileComponents(t, "nats", map[string]string{"nats://127.0.0.1:4222": n.jetStream()})
}
func (n *natsServer) restart(t *testing.T) {
	n.p.stop()
	time.Sleep(3 * time.Second)
	n.start(t)
}
func (n *natsServer) lose(t *testing.T, topic string) {
	if err := natsbroker.Purge(n.jetStream(), "pixshare", topic); err != nil {
		t.Fatal(err)
	}
}

// --- MQTT (Mosquitto) ---

type mosquitto struct {
	bin, dir string
	port     int
	p        *proc
}

func startMosquitto(t *testing.T, bin string) *mosquitto {
	m := &mosquitto{bin: bin, dir: t.TempDir(), port: daprtest.FreePort(t)}
	// Persistence keeps the persistent sessions (cleanSession: false) and
	// their queued QoS 1 messages across a restart; it is saved on a
	// graceful stop and every second. max_queued_messages is raised above
	// the default 1000 so a subscriber that is down never loses messages
	// to the queue limit during a scenario. max_inflight_messages 0 (no
	// limit, instead of 20) as a deployment must have it (deploy/README.md,
	// "Under faults"): Dapr 1.14's MQTT component holds, unacknowledged, a
	// message that arrives while its app has no subscription stream, and
	// with a limit enough of them stop the topic until the session
	// reconnects.
	conf := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\nuser root\npersistence true\npersistence_location %s/\nautosave_interval 1\nmax_inflight_messages 0\nmax_queued_messages 100000\nlog_dest stderr\n",
		m.port, m.dir)
	if err := os.WriteFile(filepath.Join(m.dir, "mosquitto.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	m.start(t)
	return m
}

func (m *mosquitto) start(t *testing.T) {
	m.p = startProc(t, t, m.port, m.bin, []string{"-c", filepath.Join(m.dir, "mosquitto.conf")}, nil)
}
func (m *mosquitto) jetStream() string { return "" }
func (m *mosquitto) components(t *testing.T) []string {
	return profileComponents(t, "mqtt", map[string]string{"tcp://127.0.0.1:1883": "tcp://127.0.0.1:" + strconv.Itoa(m.port)})
}
func (m *mosquitto) restart(t *testing.T) {
	m.p.stop()
	time.Sleep(3 * time.Second)
	m.start(t)
}

// lose has nothing to do: a subscriber that never connected has no
// session, so the broker drops what is published for it.
func (m *mosquitto) lose(*testing.T, string) {}

// --- RabbitMQ ---

// rabbitNode is a private RabbitMQ node: its own node name, ports, Erlang
// cookie (HOME), database and configuration, registered with the
// machine's epmd (a name service: it is used, never stopped).
type rabbitNode struct {
	bin, dir   string
	port, dist int
	name       string
	owner      *testing.T
	p          *proc
}

func startRabbit(t *testing.T, bin string, vhosts []string) *rabbitNode {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := &rabbitNode{bin: bin, dir: t.TempDir(), port: daprtest.FreePort(t), dist: daprtest.FreePort(t),
		name: fmt.Sprintf("pixshare-faults-%x@localhost", b), owner: t}
	conf := fmt.Sprintf("listeners.tcp.local = 127.0.0.1:%d\nloopback_users = none\nload_definitions = %s\n",
		n.port, filepath.Join(n.dir, "definitions.json"))
	defs := rabbitDefinitions(vhosts)
	for file, content := range map[string]string{"rabbitmq.conf": conf, "definitions.json": defs,
		"enabled_plugins": "[].\n", "rabbitmq-env.conf": "ERL_EPMD_ADDRESS=127.0.0.1\n"} {
		if err := os.WriteFile(filepath.Join(n.dir, file), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n.start(t)
	return n
}

func (n *rabbitNode) start(t *testing.T) {
	n.p = startProc(t, n.owner, n.port, n.bin, nil, []string{
		"HOME=" + n.dir,
		"RABBITMQ_NODENAME=" + n.name,
		"RABBITMQ_NODE_PORT=" + strconv.Itoa(n.port),
		"RABBITMQ_DIST_PORT=" + strconv.Itoa(n.dist),
		"RABBITMQ_CONF_ENV_FILE=" + filepath.Join(n.dir, "rabbitmq-env.conf"),
		"RABBITMQ_CONFIG_FILE=" + filepath.Join(n.dir, "rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE=" + filepath.Join(n.dir, "advanced.config"),
		"RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(n.dir, "enabled_plugins"),
		"RABBITMQ_MNESIA_BASE=" + filepath.Join(n.dir, "mnesia"),
		"RABBITMQ_LOG_BASE=" + filepath.Join(n.dir, "log"),
		"RABBITMQ_PID_FILE=" + filepath.Join(n.dir, "pid"),
		"ERL_FLAGS=-kernel inet_dist_use_interface {127,0,0,1}",
	})
}

// rabbitDefinitions are loaded at boot: guest/guest and a virtual host per
// scenario.
func rabbitDefinitions(vhosts []string) string {
	salt := make([]byte, 4)
	_, _ = rand.Read(salt)
	sum := sha256.Sum256(append(append([]byte{}, salt...), "guest"...))
	type perm struct {
		User      string `json:"user"`
		Vhost     string `json:"vhost"`
		Configure string `json:"configure"`
		Write     string `json:"write"`
		Read      string `json:"read"`
	}
	defs := map[string]any{
		"users": []map[string]any{{"name": "guest", "tags": "administrator", "hashing_algorithm": "rabbit_password_hashing_sha256",
			"password_hash": base64.StdEncoding.EncodeToString(append(salt, sum[:]...))}},
	}
	var vs []map[string]string
	var perms []perm
	for _, v := range append([]string{"/"}, vhosts...) {
		vs = append(vs, map[string]string{"name": v})
		perms = append(perms, perm{"guest", v, ".*", ".*", ".*"})
	}
	defs["vhosts"], defs["permissions"] = vs, perms
	b, _ := json.Marshal(defs)
	return string(b)
}

type rabbitVhost struct {
	node  *rabbitNode
	vhost string
}

func (r *rabbitVhost) components(t *testing.T) []string {
	u := fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/%s", r.node.port, r.vhost)
	return profileComponents(t, "rabbitmq", map[string]string{"amqp://guest:guest@127.0.0.1:5672": u})
}
func (r *rabbitVhost) jetStream() string { return "" }
func (r *rabbitVhost) restart(t *testing.T) {
	r.node.p.stop()
	time.Sleep(3 * time.Second)
	r.node.start(t)
}

// lose has nothing to do: a subscriber that never started has no queue
// bound to the topic's exchange, so the broker drops what is published.
func (r *rabbitVhost) lose(*testing.T, string) {}
