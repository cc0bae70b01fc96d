package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"pixshare/tools/stack/internal/console"
	"pixshare/tools/stack/internal/daprd"
	"pixshare/tools/stack/internal/runfile"
	"pixshare/tools/stack/internal/supervise"
)

// stopGrace is how long children get between SIGTERM and SIGKILL.
const stopGrace = 10 * time.Second

// run is the launcher's whole life. Cancelling ctx (SIGINT/SIGTERM) stops the
// stack cleanly and returns 0; a child exiting, a readiness timeout or a
// failed check returns 1.
func run(ctx context.Context, opts options, stdout, stderr io.Writer) int {
	s := newStack(opts, stdout, stderr)
	if err := s.prepare(ctx); err != nil {
		// Joined errors (every missing binary, every busy port) read best
		// one per line.
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "stack: %s\n", line)
		}
		return 1
	}
	color := false
	if f, ok := stdout.(*os.File); ok {
		color = console.IsTerminal(f)
	}
	s.out = console.New(stdout, color, s.consoleNames())
	if s.opts.logFile != "" {
		f, err := s.openLog()
		if err != nil {
			fmt.Fprintf(stderr, "stack: %v\n", err)
			return 1
		}
		defer f.Close() // after the deferred shutdown: its lines are logged too
		s.out.Tee(f)
	}
	s.sup = supervise.New(s.out)
	defer s.shutdown()

	if err := s.startBroker(ctx); err != nil {
		if ctx.Err() != nil {
			return s.stopped()
		}
		fmt.Fprintf(stderr, "stack: %v\n", err)
		return 1
	}

	if err := s.startMailpit(ctx); err != nil {
		if ctx.Err() != nil {
			return s.stopped()
		}
		fmt.Fprintf(stderr, "stack: %v\n", err)
		return 1
	}

	s.out.Printf("starting %d apps with daprd %s (%s)%s%s", len(s.apps), daprd.Version, s.daprd, s.resourcesNote(), s.brokerNote())

	readyCtx, cancelReady := context.WithTimeout(ctx, opts.readyTimeout)
	defer cancelReady()
	var ready readySet
	upDone := make(chan error, 1)
	go func() { upDone <- s.bringUp(readyCtx, &ready) }()

	select {
	case e := <-s.sup.Exits():
		cancelReady()
		<-upDone // no new child may start once we begin to stop
		s.reportExit(e)
		return 1
	case <-ctx.Done():
		cancelReady()
		<-upDone
		return s.stopped()
	case err := <-upDone:
		switch {
		case ctx.Err() != nil:
			return s.stopped()
		case errors.Is(err, context.DeadlineExceeded):
			s.reportNotReady(ready.missing(s.apps))
			return 1
		case err != nil:
			s.out.Printf("stack: %v", err)
			return 1
		}
	}
	s.out.Printf("%s", readyLine(s.apps, func(a runfile.App) bool { return s.cmds[a.AppID] != "" }, s.natsURL(), s.mailpitURL()))

	select {
	case e := <-s.sup.Exits():
		s.reportExit(e)
		return 1
	case <-ctx.Done():
		return s.stopped()
	}
}

// openLog creates (or empties) the log file: each start of the launcher
// has a log of its own run, bounded (rotatingLog).
func (s *stack) openLog() (*rotatingLog, error) {
	path := s.opts.logFile
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.dataDir, path)
	}
	f, err := openRotatingLog(path, logFileMax)
	if err != nil {
		return nil, fmt.Errorf("-log-file: %w", err)
	}
	return f, nil
}

// stopped ends a run that was asked to stop.
func (s *stack) stopped() int {
	s.shutdown()
	s.out.Printf("stopped")
	return 0
}

// shutdown stops the children (apps first, then sidecars) and then the
// broker they were using. It is idempotent: deferred and explicit calls mix.
func (s *stack) shutdown() {
	if s.sup != nil {
		if killed := s.sup.Stop(stopGrace); len(killed) > 0 {
			s.out.Printf("killed after %v: %s", stopGrace, strings.Join(killed, ", "))
		}
		s.sup = nil
	}
	if s.broker != nil {
		s.broker.Shutdown()
		s.broker = nil
	}
}

// resourcesNote names the first app's resources, relative to the run file:
// which profile this run is on.
func (s *stack) resourcesNote() string {
	if len(s.apps) == 0 || len(s.apps[0].ResourcesPaths) == 0 {
		return ""
	}
	var rel []string
	for _, p := range s.apps[0].ResourcesPaths {
		if r, err := filepath.Rel(s.runDir, p); err == nil && !strings.HasPrefix(r, "..") {
			p = r
		}
		rel = append(rel, p)
	}
	return ", resources " + strings.Join(rel, ",")
}

func (s *stack) brokerNote() string {
	if s.broker == nil {
		return ", no embedded broker"
	}
	return ", broker " + s.broker.URL()
}

func (s *stack) natsURL() string {
	if s.broker == nil {
		return ""
	}
	return s.broker.URL()
}
