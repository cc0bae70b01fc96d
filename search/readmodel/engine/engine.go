// Package engine chooses the read-model engine by configuration and
// provides it to fx: SQL (default) or Elasticsearch.
package engine

import (
	"context"
	"fmt"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"pixshare/platform/config"
	"pixshare/platform/database"
	"pixshare/platform/health"
	"pixshare/search/readmodel"
	"pixshare/search/readmodel/sqlengine"
)

// Config is read from the environment.
type Config struct {
	// Engine is "sql" or "elasticsearch".
	Engine string `env:"SEARCH_ENGINE" envDefault:"sql"`
}

// Validate checks the engine name.
func (c *Config) Validate() error {
	switch c.Engine {
	case "sql", "elasticsearch":
		return nil
	}
	return fmt.Errorf("SEARCH_ENGINE must be sql or elasticsearch, got %q", c.Engine)
}

// New opens the configured engine. The SQL engine opens DATABASE_URL
// (default: the SQLite file the indexer and the search service share) and
// creates its tables.
func New(ctx context.Context, lc fx.Lifecycle, cfg Config, dbcfg database.Config, logger *zap.Logger) (readmodel.Engine, error) {
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

// Module provides readmodel.Engine and its readiness check.
var Module = fx.Module("readmodel",
	database.WithDefaultURL("sqlite://.data/search.db"),
	fx.Provide(
		config.Load[Config],
		func(lc fx.Lifecycle, cfg Config, dbcfg database.Config, logger *zap.Logger) (readmodel.Engine, error) {
			return New(context.Background(), lc, cfg, dbcfg, logger)
		},
		health.AsCheck(func(e readmodel.Engine) health.Check {
			return health.Check{Name: "readmodel", Probe: e.Ping}
		}),
	),
)
