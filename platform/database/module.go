package database

import (
	"context"
	"fmt"

	"go.uber.org/fx"
	"go.uber.org/zap"
	"gorm.io/gorm"

	"pixshare/platform/config"
	"pixshare/platform/health"
)

// Module provides *gorm.DB, a readiness check, and closes the pool on stop.
// A service's default DATABASE_URL comes from its own config (see
// WithDefaultURL); the environment wins.
var Module = fx.Module("database",
	fx.Provide(
		func(lc fx.Lifecycle, cfg Config, logger *zap.Logger) (*gorm.DB, error) {
			db, err := Open(context.Background(), cfg, logger)
			if err != nil {
				return nil, err
			}
			lc.Append(fx.Hook{OnStop: func(context.Context) error {
				sqlDB, err := db.DB()
				if err != nil {
					return err
				}
				return sqlDB.Close()
			}})
			return db, nil
		},
		health.AsCheck(func(db *gorm.DB) health.Check {
			return health.Check{Name: "database", Probe: func(ctx context.Context) error { return Ping(ctx, db) }}
		}),
	),
)

// WithDefaultURL provides the Config, using defaultURL when DATABASE_URL is
// unset, so each service runs locally on its own SQLite file.
func WithDefaultURL(defaultURL string) fx.Option {
	return fx.Provide(func() (Config, error) {
		cfg, err := config.Load[Config]()
		if err != nil {
			return cfg, err
		}
		if cfg.URL == "" {
			cfg.URL = defaultURL
		}
		if err := cfg.Validate(); err != nil {
			return cfg, fmt.Errorf("invalid configuration: %w", err)
		}
		return cfg, nil
	})
}
