package indexer

import (
	"context"
	"go.uber.org/zap"

	"go.uber.org/fx"
	"google.golang.org/grpc"

	"pixshare/platform/events"
	"pixshare/platform/grpcserver"
	"pixshare/platform/httpserver"
	"pixshare/platform/sidecar"
	postevents "pixshare/post/events"
	postv1 "pixshare/proto/post/v1"
	"pixshare/search/readmodel/engine"
)

// AppID is the Dapr app id.
const AppID = "indexer"

// postClient calls post.v1 through the sidecar.
type postClient struct{ rpc postv1.PostServiceClient }

func (c postClient) MarkIndexed(ctx context.Context, id string, version int64) error {
	_, err := c.rpc.MarkIndexed(ctx, &postv1.MarkIndexedRequest{PostId: id, Version: version})
	return err
}

func (c postClient) ListPosts(ctx context.Context, size int32, token string) ([]*postv1.Post, string, error) {
	res, err := c.rpc.ListPosts(ctx, &postv1.ListPostsRequest{PageSize: size, PageToken: token})
	if err != nil {
		return nil, "", err
	}
	return res.GetPosts(), res.GetNextPageToken(), nil
}

// core is what both the app and the reindex command need.
var core = fx.Options(
	sidecar.Module,
	engine.Module,
	fx.Provide(
		func(conn *grpc.ClientConn) Posts {
			return postClient{rpc: postv1.NewPostServiceClient(sidecar.NewAppConn(conn, "post"))}
		},
		New,
	),
)

// Module is the indexer app: it subscribes to the search-index topic. Its
// HTTP port serves /healthz and /readyz only.
var Module = fx.Options(
	grpcserver.Module,
	httpserver.Module,
	events.Module(AppID),
	core,
	fx.Invoke(func(sub *events.Subscriber, ix *Indexer) error {
		return sub.Subscribe(events.TopicSearchIndex, map[string]events.Handler{
			postevents.TypeIndexUpsert: ix.Upsert,
			postevents.TypeIndexRemove: ix.Remove,
		})
	}),
)

// ReindexModule runs one re-index through an already running sidecar (the
// indexer's own: DAPR_GRPC_PORT and DAPR_HTTP_PORT name it) and stops.
var ReindexModule = fx.Options(
	core,
	fx.Invoke(func(lc fx.Lifecycle, sd fx.Shutdowner, ix *Indexer) {
		lc.Append(fx.Hook{OnStart: func(context.Context) error {
			go func() {
				_, err := ix.Reindex(context.Background())
				code := 0
				if err != nil {
					ix.logger.Error("reindex failed", zap.Error(err))
					code = 1
				}
				_ = sd.Shutdown(fx.ExitCode(code))
			}()
			return nil
		}})
	}),
)
