package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	broker "pixshare/platform/natsbroker"
	"pixshare/tools/stack/internal/console"
	"pixshare/tools/stack/internal/daprd"
	"pixshare/tools/stack/internal/health"
	"pixshare/tools/stack/internal/preflight"
	"pixshare/tools/stack/internal/runfile"
	"pixshare/tools/stack/internal/supervise"
)

// stack is one run of the launcher: what prepare found, then what it started.
type stack struct {
	opts    options
	stdout  io.Writer
	stderr  io.Writer
	runDir  string
	dataDir string
	daprd   string
	apps    []runfile.App
	cmds    map[string]string // app id → resolved command path ("" = sidecar only)
	tokens  map[string]preflight.Tokens

	out    *console.Console
	sup    *supervise.Supervisor
	broker *broker.Broker
	probe  *http.Client
	// mailpit is the Mailpit binary, "" when the launcher runs none.
	mailpit string
}

// prepare does every check that needs no process: run file, daprd, data dir
// and secrets, ports, app binaries. Nothing is started if any check fails.
func (s *stack) prepare(ctx context.Context) error {
	runFile, err := filepath.Abs(s.opts.runFile)
	if err != nil {
		return fmt.Errorf("run file: %w", err)
	}
	s.runDir = filepath.Dir(runFile)
	apps, warnings, err := runfile.Load(runFile)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(s.stderr, "stack: warning: %s %s\n", filepath.Base(runFile), w)
	}
	if apps, err = runfile.Select(apps, s.opts.apps); err != nil {
		return fmt.Errorf("-apps: %w", err)
	}
	if err := s.applyOverrides(apps); err != nil {
		return err
	}
	if apps, err = runfile.Replicate(apps, s.opts.replicas, s.opts.natsPort, s.opts.mailpitSMTPPort, s.opts.mailpitHTTPPort); err != nil {
		return err
	}
	s.apps = apps

	home, _ := os.UserHomeDir() // without a home, ~/.dapr is simply not a candidate
	s.daprd, err = daprd.Locate(ctx, daprd.Candidates{
		Flag: s.opts.daprd, Env: os.Getenv("PIXSHARE_DAPRD"), RunDir: s.runDir, Home: home,
	})
	if err != nil {
		return err
	}

	s.dataDir = s.opts.dataDir
	if !filepath.IsAbs(s.dataDir) {
		s.dataDir = filepath.Join(s.runDir, s.dataDir)
	}
	created, err := preflight.EnsureDataDir(s.dataDir)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(s.stderr, "stack: wrote %s with a new JWT signing key\n", filepath.Join(s.dataDir, preflight.SecretsFile))
	}

	if s.tokens, err = preflight.NewTokens(s.dataDir, s.apps); err != nil {
		return err
	}

	if err := preflight.AssignFreePorts(s.apps); err != nil {
		return err
	}
	natsPort := 0
	if s.opts.embedsBroker() {
		natsPort = s.opts.natsPort
	}
	ports, err := preflight.PlannedPorts(s.apps, natsPort)
	if err != nil {
		return err
	}
	ports = append(ports, s.mailpitPorts()...)
	if err := preflight.CheckPorts(ports); err != nil {
		return err
	}
	if err := preflight.CheckCommands(s.apps); err != nil {
		return err
	}
	if err := s.locateMailpit(); err != nil {
		return err
	}
	s.cmds = map[string]string{}
	for _, a := range s.apps {
		s.cmds[a.AppID], _ = preflight.CommandPath(a) // checked just above
	}
	return nil
}

// applyOverrides chooses every app's resources and configuration: the
// profile's folder components/<profile> next to the run file and its
// config.yaml, unless -resources or -config (resolved against the current
// directory, like any other command-line path) name others. With neither a
// profile nor flags, the run file's own choice stands, as for `dapr run -f`.
func (s *stack) applyOverrides(apps []runfile.App) error {
	var resources []string
	config := ""
	if p := s.opts.profile; p != "" {
		dir := filepath.Join(s.runDir, "components", p)
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return fmt.Errorf("-profile %s: no folder %s (the profiles are the folders of components/)", p, dir)
		}
		resources = []string{dir}
		config = filepath.Join(dir, "config.yaml")
	}
	if len(s.opts.resources) > 0 {
		resources = nil
		for _, p := range s.opts.resources {
			abs, err := filepath.Abs(p)
			if err != nil {
				return fmt.Errorf("-resources: %w", err)
			}
			resources = append(resources, abs)
		}
	}
	if s.opts.config != "" {
		abs, err := filepath.Abs(s.opts.config)
		if err != nil {
			return fmt.Errorf("-config: %w", err)
		}
		config = abs
	}
	if err := runfile.Override(apps, resources, config); err != nil {
		return fmt.Errorf("override: %w", err)
	}
	return nil
}

// startBroker runs the embedded NATS and makes sure the stream exists.
func (s *stack) startBroker(ctx context.Context) error {
	if !s.opts.embedsBroker() {
		return nil
	}
	log := s.out.Stream("nats", console.Style{Colour: len(s.apps)}, 40)
	b, err := broker.Start(ctx, s.opts.natsPort, filepath.Join(s.dataDir, "jetstream"), log.Printf)
	if err != nil {
		return err
	}
	s.broker = b
	err = broker.EnsureStream(ctx, b.URL(), broker.Stream{
		Name:     "pixshare",
		Subjects: s.opts.topics,
		MaxAge:   s.opts.streamMaxAge,
		MaxBytes: s.opts.streamMaxBytes,
	})
	if err != nil {
		return fmt.Errorf("%w (to start over, delete %s)", err, filepath.Join(s.dataDir, "jetstream"))
	}
	return nil
}

// consoleNames lists every prefix that will be printed, for alignment.
func (s *stack) consoleNames() []string {
	var names []string
	if s.opts.embedsBroker() {
		names = append(names, "nats")
	}
	if s.opts.runsMailpit() {
		names = append(names, "mailpit")
	}
	for _, a := range s.apps {
		names = append(names, a.Instance(), sidecarName(a))
	}
	return names
}

func sidecarName(a runfile.App) string { return a.Instance() + ".dapr" }

// newStack wires the parts that do not depend on the run file.
func newStack(opts options, stdout, stderr io.Writer) *stack {
	return &stack{opts: opts, stdout: stdout, stderr: stderr, probe: health.NewClient()}
}
