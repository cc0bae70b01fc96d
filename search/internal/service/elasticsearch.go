package service

import (
	"context"
	"errors"
	"strings"

	"go.uber.org/fx"

	"pixshare/platform/config"
	"pixshare/search/internal/adapters/esengine"
	"pixshare/search/internal/app"
)

// ESConfig is read from the environment when SEARCH_ENGINE=elasticsearch.
type ESConfig struct {
	// URLs of the cluster's HTTP endpoints, comma-separated.
	URLs        []string `env:"ELASTICSEARCH_URL" envSeparator:","`
	Username    string   `env:"ELASTICSEARCH_USERNAME"`
	Password    string   `env:"ELASTICSEARCH_PASSWORD"`
	IndexPrefix string   `env:"ELASTICSEARCH_INDEX" envDefault:"pixshare-posts"`
}

// Validate requires a URL.
func (c *ESConfig) Validate() error {
	if len(c.URLs) == 0 || strings.TrimSpace(c.URLs[0]) == "" {
		return errors.New("ELASTICSEARCH_URL is required when SEARCH_ENGINE=elasticsearch")
	}
	return nil
}

// newElasticsearch connects to the cluster and makes sure the index and its
// alias exist.
func newElasticsearch(ctx context.Context, _ fx.Lifecycle) (app.Engine, error) {
	cfg, err := config.Load[ESConfig]()
	if err != nil {
		return nil, err
	}
	return esengine.New(ctx, esengine.Config{
		Addresses: cfg.URLs, Username: cfg.Username, Password: cfg.Password, IndexPrefix: cfg.IndexPrefix,
	})
}
