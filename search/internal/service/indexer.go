package service

import (
	"context"

	"go.uber.org/fx"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"pixshare/contracts/postclient"
	"pixshare/platform/grpcserver"
	"pixshare/platform/httpserver"
	"pixshare/platform/pubsub"
	"pixshare/platform/sidecar"
	"pixshare/search/internal/app"
	"pixshare/search/internal/ports"
)

// IndexerAppID is the Dapr app id of the indexer.
const IndexerAppID = "indexer"

// indexerCore is what both the indexer app and the reindex command need.
var indexerCore = fx.Options(
	sidecar.Module,
	EngineModule,
	fx.Provide(
		func(conn *grpc.ClientConn) app.Posts { return postclient.NewThroughSidecar(conn) },
		app.NewIndexer,
	),
)

// IndexerModule is the indexer app: it subscribes to the search-index
// topic. Its HTTP port serves /healthz and /readyz only.
var IndexerModule = fx.Options(
	grpcserver.Module,
	httpserver.Module,
	pubsub.Module(IndexerAppID),
	indexerCore,
	fx.Invoke(ports.Subscribe),
)

// ReindexModule runs one re-index through an already running sidecar (the
// indexer's own: DAPR_GRPC_PORT and DAPR_HTTP_PORT name it) and stops.
var ReindexModule = fx.Options(
	indexerCore,
	fx.Invoke(func(lc fx.Lifecycle, sd fx.Shutdowner, ix *app.Indexer, logger *zap.Logger) {
		lc.Append(fx.Hook{OnStart: func(context.Context) error {
			go func() {
				_, err := ix.Reindex(context.Background())
				code := 0
				if err != nil {
					logger.Error("reindex failed", zap.Error(err))
					code = 1
				}
				_ = sd.Shutdown(fx.ExitCode(code))
			}()
			return nil
		}})
	}),
)
