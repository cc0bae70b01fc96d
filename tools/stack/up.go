package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"pixshare/tools/stack/internal/console"
	"pixshare/tools/stack/internal/daprd"
	"pixshare/tools/stack/internal/health"
	"pixshare/tools/stack/internal/runfile"
	"pixshare/tools/stack/internal/supervise"
)

// stagger spaces out the pairs after the first, so a dozen processes do not
// all compete for the CPU in the same instant and their start-up logs stay
// readable.
const stagger = 150 * time.Millisecond

// bringUp starts every app with its sidecar and returns nil once all are
// ready, or an error when ctx ends first. The first sidecar starts alone and
// must answer its outbound health check before any other: it creates and
// migrates the shared SQLite name-resolution database, and two sidecars doing
// a first migration at once race.
func (s *stack) bringUp(ctx context.Context, ready *readySet) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx) // runs before wg.Wait: probes end on any return
	defer cancel()

	for i, app := range s.apps {
		if i > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("start %s: %w", app.Instance(), ctx.Err())
			case <-time.After(stagger):
			}
		}
		if err := s.startPair(ctx, i); err != nil {
			return err
		}
		if i == 0 {
			url := sidecarURL(app) + "/v1.0/healthz/outbound"
			if err := health.Wait(ctx, s.probe, url, health.Is2xx); err != nil {
				err = fmt.Errorf("first sidecar not healthy: %w", err)
				ready.fail(app.Instance(), err)
				return err
			}
		}
		wg.Go(func() {
			url, accept := readinessProbe(app, s.cmds[app.AppID] != "")
			if err := health.Wait(ctx, s.probe, url, accept); err != nil {
				ready.fail(app.Instance(), err)
				return
			}
			ready.mark(app.Instance())
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("wait for readiness: %w", ctx.Err())
	}
	return nil
}

// startPair starts app i's sidecar, then the app itself (if it has a command).
func (s *stack) startPair(ctx context.Context, i int) error {
	app := s.apps[i]
	err := s.sup.Start(ctx, supervise.Spec{
		Name:  sidecarName(app),
		Path:  s.daprd,
		Args:  daprd.Args(app),
		Dir:   app.AppDirPath, // relative paths in components mean the same for app and sidecar
		Env:   append(daprd.SidecarEnv(os.Environ()), s.tokens[app.AppID].Env()...),
		Style: console.Style{Colour: i, Dim: true},
		Wave:  1,
	})
	if err != nil {
		return err
	}
	cmd := s.cmds[app.AppID]
	if cmd == "" {
		return nil
	}
	return s.sup.Start(ctx, supervise.Spec{
		Name:  app.Instance(),
		Path:  cmd,
		Args:  app.Command[1:],
		Dir:   app.AppDirPath,
		Env:   daprd.AppEnv(append(os.Environ(), s.tokens[app.AppID].Env()...), app),
		Style: console.Style{Colour: i},
		Wave:  0,
	})
}

// readinessProbe is the app's /readyz (200 only) when it serves HTTP_ADDR,
// otherwise its sidecar's /v1.0/healthz, which daprd answers 2xx only once
// the app's channel is up too.
func readinessProbe(app runfile.App, hasCommand bool) (string, func(int) bool) {
	if addr := app.Env["HTTP_ADDR"]; addr != "" && hasCommand {
		return "http://" + dialAddr(addr) + "/readyz", health.Is200
	}
	return sidecarURL(app) + "/v1.0/healthz", health.Is2xx
}

func sidecarURL(app runfile.App) string {
	return "http://127.0.0.1:" + strconv.Itoa(app.HTTPPort)
}

// dialAddr turns a listen address into one to connect to: ":8081" and
// "0.0.0.0:8081" listen everywhere, so loopback reaches them.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// readySet records which apps have passed their readiness probe and, for
// the others, why not.
type readySet struct {
	mu     sync.Mutex
	ready  map[string]bool
	reason map[string]string
}

func (r *readySet) mark(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ready == nil {
		r.ready = map[string]bool{}
	}
	r.ready[id] = true
}

func (r *readySet) fail(id string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reason == nil {
		r.reason = map[string]string{}
	}
	r.reason[id] = err.Error()
}

// missing lists the apps not ready yet, in run-file order, each with the
// reason its probe gave ("not started" if it never ran).
func (r *readySet) missing(apps []runfile.App) []notReady {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []notReady
	for _, a := range apps {
		if r.ready[a.Instance()] {
			continue
		}
		reason, ok := r.reason[a.Instance()]
		if !ok {
			reason = "not started"
		}
		out = append(out, notReady{id: a.Instance(), reason: reason})
	}
	return slices.Clip(out)
}

type notReady struct {
	id, reason string
}
