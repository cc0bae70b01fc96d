// Command stack runs the whole Pixshare stack on one machine with nothing but
// Go installed: it reads the same dapr.yaml as `dapr run -f .`, replaces its
// resources with a profile (components/local by default, whose NATS JetStream
// broker it embeds), starts every app beside its own daprd sidecar, prefixes
// their logs, waits until all are ready and stops everything on Ctrl-C.
// `make run` starts it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pixshare/contracts/events"
)

// options are the command-line settings; see newFlagSet for their meaning.
type options struct {
	runFile  string
	profile  string
	daprd    string
	natsPort int
	dataDir  string
	// logFile receives a copy of every console line (relative to
	// dataDir; "" = none).
	logFile        string
	readyTimeout   time.Duration
	apps           []string
	resources      []string
	config         string
	topics         []string
	streamMaxAge   time.Duration
	streamMaxBytes int64
	replicas       map[string]int
	// Mailpit: its binary ("" = bin/mailpit next to the run file) and
	// ports; SMTP port 0 runs without it.
	mailpit         string
	mailpitSMTPPort int
	mailpitHTTPPort int
}

func newFlagSet(opts *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("stack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opts.runFile, "f", "dapr.yaml", "Dapr multi-app run file")
	fs.StringVar(&opts.profile, "profile", defaultProfile, "folder of components/ (next to the run file) every app loads, with its config.yaml; \"\" = the run file's own resources and configuration, as `dapr run -f` loads them")
	fs.StringVar(&opts.daprd, "daprd", "", "daprd binary (default: $PIXSHARE_DAPRD, <run file dir>/bin/daprd, daprd on PATH, ~/.dapr/bin/daprd)")
	fs.IntVar(&opts.natsPort, "nats-port", 4223, "port of the embedded NATS JetStream broker, started for the local profile only; 0 = none")
	fs.StringVar(&opts.dataDir, "data", ".data", "the launcher's data directory (secrets.json, tokens, jetstream/, mailpit.db, the log), relative to the run file's directory; the apps and the local components use .data/ as dapr.yaml and components/local say")
	fs.StringVar(&opts.logFile, "log-file", "stack.log", "file that gets a copy of every console line, without colour, overwritten at each start (relative to -data; \"\" = none); tools/load reads the thumbnailer's stage timings there")
	fs.DurationVar(&opts.readyTimeout, "ready-timeout", 3*time.Minute, "how long every app may take to become ready")
	fs.Func("apps", "comma-separated app ids to run (default: all)", listFlag(&opts.apps))
	fs.Func("resources", "comma-separated resources paths replacing every app's (relative to the current directory; wins over -profile)", listFlag(&opts.resources))
	fs.StringVar(&opts.config, "config", "", "configuration file replacing every app's configFilePath (wins over -profile)")
	opts.topics = append([]string(nil), events.Topics...)
	fs.Func("topics", "comma-separated subjects of the stream (default: "+strings.Join(opts.topics, ",")+")", listFlag(&opts.topics))
	fs.Func("replicas", "instances per app id, e.g. post=2,user=2: each extra one gets its own ports and sidecar, and the gateway balances over them", replicasFlag(&opts.replicas))
	fs.StringVar(&opts.mailpit, "mailpit", "", "Mailpit binary, the SMTP server of the mail binding (default: bin/mailpit next to the run file)")
	fs.IntVar(&opts.mailpitSMTPPort, "mailpit-smtp-port", 1025, "Mailpit's SMTP port on 127.0.0.1 (the profiles' mail.yaml point at 1025); 0 = no Mailpit")
	fs.IntVar(&opts.mailpitHTTPPort, "mailpit-http-port", 8025, "Mailpit's web inbox and API port on 127.0.0.1")
	fs.DurationVar(&opts.streamMaxAge, "stream-max-age", 72*time.Hour, "how long the stream keeps a message")
	fs.Int64Var(&opts.streamMaxBytes, "stream-max-bytes", 1<<30, "stream size limit in bytes; the oldest messages go first")
	return fs
}

// validate rejects settings that could only fail later and less clearly.
func (o options) validate(args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected arguments %q", args)
	case o.profile != "" && (o.profile != filepath.Base(o.profile) || o.profile == "." || o.profile == ".."):
		return fmt.Errorf("-profile %q: a folder name under components/, e.g. local or redis", o.profile)
	case o.natsPort < 0 || o.natsPort > 65535:
		return fmt.Errorf("-nats-port %d: not a port", o.natsPort)
	case o.mailpitSMTPPort < 0 || o.mailpitSMTPPort > 65535:
		return fmt.Errorf("-mailpit-smtp-port %d: not a port", o.mailpitSMTPPort)
	case o.runsMailpit() && (o.mailpitHTTPPort <= 0 || o.mailpitHTTPPort > 65535 || o.mailpitHTTPPort == o.mailpitSMTPPort):
		return fmt.Errorf("-mailpit-http-port %d: not a port, or the SMTP port", o.mailpitHTTPPort)
	case o.readyTimeout <= 0:
		return fmt.Errorf("-ready-timeout %v: must be positive", o.readyTimeout)
	case o.embedsBroker() && len(o.topics) == 0:
		return errors.New("-topics: the stream needs at least one subject")
	case o.streamMaxAge < 0 || o.streamMaxBytes <= 0:
		return errors.New("-stream-max-age must not be negative and -stream-max-bytes must be positive")
	}
	return nil
}

// replicasFlag parses "post=2, user=3".
func replicasFlag(dst *map[string]int) func(string) error {
	return func(v string) error {
		*dst = map[string]int{}
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			id, n, ok := strings.Cut(part, "=")
			count, err := strconv.Atoi(n)
			if !ok || err != nil || count < 1 {
				return fmt.Errorf("%q: want APP=COUNT with COUNT ≥ 1", part)
			}
			(*dst)[strings.TrimSpace(id)] = count
		}
		return nil
	}
}

// defaultProfile is what `make run` runs on: SQLite (databases and cache) and
// the broker this launcher embeds, so nothing but Go is needed. dapr.yaml
// itself names the redis profile, which `dapr run -f .` finds after
// `dapr init`.
const defaultProfile = "local"

// embedsBroker reports whether the launcher runs its own NATS JetStream:
// only components/local points at it (127.0.0.1:4223); every other profile
// brings its broker.
func (o options) embedsBroker() bool {
	return o.natsPort != 0 && o.profile == defaultProfile
}

// listFlag parses "a, b,c" into a list, replacing any default.
func listFlag(dst *[]string) func(string) error {
	return func(v string) error {
		*dst = nil
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				*dst = append(*dst, s)
			}
		}
		return nil
	}
}

func main() {
	var opts options
	fs := newFlagSet(&opts, os.Stderr)
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if err := opts.validate(fs.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "stack: %v\n", err)
		os.Exit(2)
	}
	// The first SIGINT/SIGTERM cancels ctx and starts an orderly stop; the
	// children never see the terminal's Ctrl-C themselves (own process
	// groups), so the launcher alone decides the order. Once stopping, the
	// default action is restored: a second Ctrl-C ends the launcher at once,
	// and the kernel's parent-death signal still takes the children along.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, opts, os.Stdout, os.Stderr))
}
