package cache

import (
	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"pixshare/platform/config"
)

// Config is read from the environment.
type Config struct {
	// Store is the Dapr state store component; empty disables caching.
	Store string `env:"CACHE_STORE" envDefault:"cache"`
}

// Module provides a Cache on the Dapr state store, with keys prefixed by
// prefix (the app id).
func Module(prefix string) fx.Option {
	return fx.Module("cache",
		fx.Provide(
			config.Load[Config],
			func(cfg Config, client dapr.Client, logger *zap.Logger) Cache {
				if cfg.Store == "" {
					return Nop{}
				}
				return NewDapr(client, cfg.Store, prefix, logger)
			},
		),
	)
}
