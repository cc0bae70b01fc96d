package cache

import (
	"context"
	"sync"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"pixshare/platform/config"
	"pixshare/platform/httpserver"
)

// Config is read from the environment.
type Config struct {
	// Store is the Dapr state store component, shared by every app with
	// keyPrefix "none" (stamps are read by all of them).
	Store string `env:"CACHE_STORE" envDefault:"cache"`
}

// Module provides, on the Dapr state store: a value Cache with keys
// prefixed by prefix (the app id), and the Stamps every coherent cache is
// checked against (StampStore), with a ledger for every REST request and
// the repair of stamps a failed write left pending.
func Module(prefix string) fx.Option {
	return fx.Module("cache",
		fx.Provide(
			config.Load[Config],
			config.Load[StampsConfig],
			func(cfg Config, scfg StampsConfig, client dapr.Client, s *Stamps, logger *zap.Logger) Cache {
				return NewDapr(client, cfg.Store, prefix, scfg.Timeout, s.breaker, logger)
			},
			func(cfg Config, scfg StampsConfig, client dapr.Client, logger *zap.Logger) *Stamps {
				return NewStamps(client, cfg.Store, scfg, logger)
			},
			func(s *Stamps) StampStore { return s },
		),
		fx.Invoke(func(p struct {
			fx.In
			Router *httpserver.Router `optional:"true"`
			Stamps StampStore
		}) {
			if p.Router != nil { // commands without a REST API have none
				p.Router.Mux.Use(LedgerMiddleware(p.Stamps))
			}
		}),
		fx.Invoke(func(lc fx.Lifecycle, s *Stamps) {
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			lc.Append(fx.Hook{
				OnStart: func(context.Context) error {
					wg.Add(1)
					go func() {
						defer wg.Done()
						s.Run(ctx)
					}()
					return nil
				},
				OnStop: func(context.Context) error {
					cancel()
					wg.Wait()
					return nil
				},
			})
		}),
	)
}
