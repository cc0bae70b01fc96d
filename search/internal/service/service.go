// Package service wires the search service and the indexer with fx.
package service

import (
	"time"

	"go.uber.org/fx"
	"google.golang.org/grpc"

	"pixshare/contracts/postclient"
	"pixshare/contracts/userclient"
	"pixshare/platform/cache"
	"pixshare/platform/config"
	"pixshare/platform/grpcserver"
	"pixshare/platform/httpserver"
	"pixshare/platform/sidecar"
	"pixshare/search/internal/adapters"
	"pixshare/search/internal/app"
	"pixshare/search/internal/ports"
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
	EngineModule,
	cache.Module(AppID),
	userclient.Module,
	fx.Provide(
		config.Load[Config],
		func(g *userclient.Graph) app.Blocks { return g },
		func(conn *grpc.ClientConn) app.LivePosts {
			return adapters.NewLivePosts(postclient.NewThroughSidecar(conn))
		},
		func(p *userclient.Profiles) app.Authors { return p },
		func(cfg Config, e app.Engine, b app.Blocks, p app.LivePosts, a app.Authors, c cache.Cache, s cache.StampStore) *app.Service {
			return app.NewService(e, b, p, a, c, s, cfg.ResultCacheTTL)
		},
	),
	fx.Invoke(ports.RegisterHTTP),
)
