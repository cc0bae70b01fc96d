// Package service wires the search service with fx.
package service

import (
	"time"

	"go.uber.org/fx"

	"pixshare/platform/auth"
	"pixshare/platform/cache"
	"pixshare/platform/config"
	"pixshare/platform/grpcserver"
	"pixshare/platform/httpserver"
	"pixshare/platform/sidecar"
	"pixshare/platform/usergraph"
	"pixshare/search/internal/app"
	"pixshare/search/internal/ports"
	"pixshare/search/readmodel"
	"pixshare/search/readmodel/engine"
)

// AppID is the Dapr app id.
const AppID = "search"

// Config is the search service's own configuration.
type Config struct {
	// ResultCacheTTL is how long a page of results is reused (keyed by the
	// read model's generation, so never past a change); 0 disables it.
	ResultCacheTTL time.Duration `env:"SEARCH_CACHE_TTL" envDefault:"5s"`
}

// Module is the whole search service.
var Module = fx.Options(
	grpcserver.Module,
	sidecar.Module,
	httpserver.Module,
	engine.Module,
	cache.Module(AppID),
	auth.ClientModule,
	usergraph.Module,
	fx.Provide(
		config.Load[Config],
		func(g *usergraph.Client) app.Blocks { return g },
		func(cfg Config, e readmodel.Engine, b app.Blocks, c cache.Cache) *app.Service {
			return app.NewService(e, b, c, cfg.ResultCacheTTL)
		},
	),
	fx.Invoke(ports.RegisterHTTP),
)
