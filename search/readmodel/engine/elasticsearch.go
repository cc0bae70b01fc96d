package engine

import (
	"context"
	"errors"

	"go.uber.org/fx"

	"pixshare/search/readmodel"
)

// newElasticsearch is wired once the Elasticsearch engine lands.
func newElasticsearch(context.Context, fx.Lifecycle) (readmodel.Engine, error) {
	return nil, errors.New("SEARCH_ENGINE=elasticsearch is not available in this build")
}
