// Package profiling serves Go's pprof endpoints on a separate address when
// PPROF_ADDR is set (off by default), so a running app can be profiled
// under load without exposing the profiler on its API port.
package profiling

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"pixshare/platform/config"
)

// Config is read from the environment.
type Config struct {
	// Addr is where /debug/pprof/ listens, e.g. 127.0.0.1:6061; empty is
	// off.
	Addr string `env:"PPROF_ADDR"`
}

// Handler serves the pprof index and profiles.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Module serves the profiler for the app's lifetime when configured.
var Module = fx.Invoke(func(lc fx.Lifecycle, logger *zap.Logger) error {
	cfg, err := config.Load[Config]()
	if err != nil || cfg.Addr == "" {
		return err
	}
	srv := &http.Server{Addr: cfg.Addr, Handler: Handler()}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("pprof: listen on PPROF_ADDR %s: %w", cfg.Addr, err)
			}
			logger.Info("pprof listening", zap.String("addr", ln.Addr().String()))
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					logger.Warn("pprof server stopped", zap.Error(err))
				}
			}()
			return nil
		},
		OnStop: srv.Shutdown,
	})
	return nil
})
