package httpserver

import (
	"context"
	"net/http"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"pixshare/platform/config"
)

// Module provides the Router and serves it for the app's lifetime. Services
// register routes on *Router in an fx.Invoke.
var Module = fx.Module("httpserver",
	fx.Provide(config.Load[Config], NewRouter, NewServer),
	fx.Invoke(func(lc fx.Lifecycle, cfg Config, srv *http.Server, logger *zap.Logger) {
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error { return Serve(srv, logger) },
			OnStop:  func(ctx context.Context) error { return Shutdown(ctx, srv, cfg.ShutdownTimeout) },
		})
	}),
)
