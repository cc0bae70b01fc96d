package main

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"pixshare/tools/stack/internal/runfile"
)

func TestFlags(t *testing.T) {
	var opts options
	fs := newFlagSet(&opts, io.Discard)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	want := options{
		runFile: "dapr.yaml", profile: "local", natsPort: 4223, dataDir: ".data", logFile: "stack.log", readyTimeout: 3 * time.Minute,
		topics:       []string{"thumbnails", "search-index", "domain-events", "mail", "dead-letters"},
		streamMaxAge: 72 * time.Hour, streamMaxBytes: 1 << 30,
		mailpitSMTPPort: 1025, mailpitHTTPPort: 8025,
	}
	if !reflect.DeepEqual(opts, want) {
		t.Errorf("defaults\n got %+v\nwant %+v", opts, want)
	}
	if err := opts.validate(nil); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}

	opts = options{}
	fs = newFlagSet(&opts, io.Discard)
	err := fs.Parse([]string{"-f", "x.yaml", "-profile", "redis", "-apps", "user, gateway,", "-resources", "components/redis",
		"-nats-port", "0", "-topics", "a,b", "-ready-timeout", "10s", "-config", "c.yaml", "-daprd", "/d"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(opts.apps, []string{"user", "gateway"}) || !reflect.DeepEqual(opts.resources, []string{"components/redis"}) ||
		!reflect.DeepEqual(opts.topics, []string{"a", "b"}) || opts.natsPort != 0 || opts.readyTimeout != 10*time.Second ||
		opts.runFile != "x.yaml" || opts.profile != "redis" || opts.config != "c.yaml" || opts.daprd != "/d" {
		t.Errorf("parsed %+v", opts)
	}

	for _, tt := range []struct {
		mutate func(*options)
		args   []string
		want   string
	}{
		{func(o *options) {}, []string{"extra"}, "unexpected arguments"},
		{func(o *options) { o.natsPort = 70000 }, nil, "not a port"},
		{func(o *options) { o.profile = "../redis" }, nil, "a folder name under components/"},
		{func(o *options) { o.profile = ".." }, nil, "a folder name under components/"},
		{func(o *options) { o.readyTimeout = 0 }, nil, "must be positive"},
		{func(o *options) { o.mailpitSMTPPort = -1 }, nil, "-mailpit-smtp-port -1: not a port"},
		{func(o *options) { o.mailpitHTTPPort = 1025 }, nil, "-mailpit-http-port 1025"},
		{func(o *options) { o.topics = nil }, nil, "at least one subject"},
		{func(o *options) { o.streamMaxBytes = 0 }, nil, "-stream-max-bytes must be positive"},
	} {
		o := want
		tt.mutate(&o)
		if err := o.validate(tt.args); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("validate = %v, want %q", err, tt.want)
		}
	}

	// The broker is embedded for the local profile only: every other profile
	// names a broker of its own.
	for _, tt := range []struct {
		profile  string
		natsPort int
		want     bool
	}{{"local", 4223, true}, {"local", 0, false}, {"redis", 4223, false}, {"", 4223, false}} {
		if got := (options{profile: tt.profile, natsPort: tt.natsPort}).embedsBroker(); got != tt.want {
			t.Errorf("profile %q nats-port %d: embedsBroker = %v, want %v", tt.profile, tt.natsPort, got, tt.want)
		}
	}
}

func TestReadyLine(t *testing.T) {
	env := func(addr string) runfile.Shared { return runfile.Shared{Env: map[string]string{"HTTP_ADDR": addr}} }
	apps := []runfile.App{
		{AppID: "user", HTTPPort: 3501, Shared: env("127.0.0.1:8081")},
		{AppID: "thumbnailer", HTTPPort: 3503},
		{AppID: "search", HTTPPort: 3504, Shared: env(":8084")},
		{AppID: "gateway", HTTPPort: 3500, Shared: env("0.0.0.0:8080")},
		{AppID: "sidecaronly", HTTPPort: 3509, Shared: env("127.0.0.1:8089")},
	}
	hasCommand := func(a runfile.App) bool { return a.AppID != "sidecaronly" }
	got := readyLine(apps, hasCommand, "nats://127.0.0.1:4223", "http://127.0.0.1:8025")
	want := "ready: http://127.0.0.1:8080 (gateway, docs at http://127.0.0.1:8080/docs) user=http://127.0.0.1:8081 " +
		"thumbnailer(sidecar)=http://127.0.0.1:3503 search=http://127.0.0.1:8084 sidecaronly(sidecar)=http://127.0.0.1:3509 " +
		"nats=nats://127.0.0.1:4223 mailpit=http://127.0.0.1:8025 (inbox)"
	if got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	if got := readyLine(apps[:1], hasCommand, "", ""); got != "ready: user=http://127.0.0.1:8081" {
		t.Errorf("without gateway and broker: %s", got)
	}
}
