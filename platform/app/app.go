// Package app composes a Pixshare app from fx modules. A service's main is
// one line: app.Run("user", service.Module).
package app

import (
	"fmt"
	"os"
	"time"

	"go.uber.org/dig"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"pixshare/platform/config"
	"pixshare/platform/health"
	"pixshare/platform/logging"
	"pixshare/platform/profiling"
)

// Name is the app id (the Dapr app id, the service field of every log line).
type Name string

// Options returns the common options: the app's name, its logger, fx logging
// through zap, readiness and generous start/stop timeouts (start-up waits
// for the sidecar; stop drains in-flight deliveries).
func Options(name string, opts ...fx.Option) fx.Option {
	return fx.Options(
		fx.Supply(Name(name)),
		fx.Provide(newLogger),
		fx.WithLogger(func(l *zap.Logger) fxevent.Logger {
			zl := &fxevent.ZapLogger{Logger: l.Named("fx")}
			zl.UseLogLevel(zapcore.DebugLevel)
			return zl
		}),
		fx.StartTimeout(90*time.Second),
		fx.StopTimeout(30*time.Second),
		health.Module,
		profiling.Module,
		fx.Options(opts...),
	)
}

func newLogger(name Name, lc fx.Lifecycle) (*zap.Logger, error) {
	cfg, err := config.Load[logging.Config]()
	if err != nil {
		return nil, err
	}
	l, err := logging.New(string(name), cfg)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(func() { _ = l.Sync() }))
	return l, nil
}

// Run builds and runs the app until SIGINT/SIGTERM. A start-up failure
// (bad configuration, port taken, sidecar missing) exits with status 1 and
// one line saying why.
func Run(name string, opts ...fx.Option) {
	a := fx.New(Options(name, opts...))
	if err := a.Err(); err != nil {
		// fx wraps the cause in the whole provider chain; the root cause is
		// the line an operator can act on.
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, dig.RootCause(err))
		os.Exit(1)
	}
	a.Run()
}
