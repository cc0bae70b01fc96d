package service

import (
	"context"
	"fmt"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"pixshare/platform/config"
	"pixshare/platform/database"
	"pixshare/platform/health"
	"pixshare/search/internal/adapters/sqlengine"
	"pixshare/search/internal/app"
)

// EngineConfig chooses the read-model engine: SQL (default) or
// Elasticsearch.
type EngineConfig struct {
	// Engine is "sql" or "elasticsearch".
	Engine string `env:"SEARCH_ENGINE" envDefault:"sql"`
}

// Validate checks the engine name.
func (c *EngineConfig) Validate() error {
	switch c.Engine {
	case "sql", "elasticsearch":
		return nil
	}
	return fmt.Errorf("SEARCH_ENGINE must be sql or elasticsearch, got %q", c.Engine)
}

// NewEngine opens the configured engine. The SQL engine opens DATABASE_URL
// (default: the SQLite file the indexer and the search service share) and
// creates its tables.
func NewEngine(ctx context.Context, lc fx.Lifecycle, cfg EngineConfig, dbcfg database.Config, logger *zap.Logger) (app.Engine, error) {
	if cfg.Engine == "elasticsearch" {
		return newElasticsearch(ctx, lc)
	}
	db, err := database.Open(ctx, dbcfg, logger)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(func() error {
		sqlDB, err := db.DB()
		if err != nil {
			return err
		}
		return sqlDB.Close()
	}))
	if err := sqlengine.Migrate(ctx, db); err != nil {
		return nil, err
	}
	return sqlengine.New(db), nil
}

// EngineModule provides app.Engine and its readiness check.
var EngineModule = fx.Module("readmodel",
	database.WithDefaultURL("sqlite://.data/search.db"),
	fx.Provide(
		config.Load[EngineConfig],
		func(lc fx.Lifecycle, cfg EngineConfig, dbcfg database.Config, logger *zap.Logger) (app.Engine, error) {
			return NewEngine(context.Background(), lc, cfg, dbcfg, logger)
		},
		health.AsCheck(func(e app.Engine) health.Check {
			return health.Check{Name: "readmodel", Probe: e.Ping}
		}),
	),
)
