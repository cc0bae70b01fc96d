package thumbnailer

import (
	"context"
	"runtime"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"pixshare/platform/apperror"
	"pixshare/platform/blob"
	"pixshare/platform/config"
	"pixshare/platform/events"
	"pixshare/platform/grpcserver"
	"pixshare/platform/httpserver"
	"pixshare/platform/sidecar"
	postevents "pixshare/post/events"
	postv1 "pixshare/proto/post/v1"
	"pixshare/workers/internal/thumbnail"
)

// AppID is the Dapr app id.
const AppID = "thumbnailer"

// Config is the thumbnailer's configuration.
type Config struct {
	// Concurrency is the most images in flight; 0 means one per CPU.
	Concurrency   int    `env:"THUMBNAIL_CONCURRENCY" envDefault:"0"`
	Quality       int    `env:"THUMBNAIL_QUALITY" envDefault:"85"`
	MaxPixels     int64  `env:"UPLOAD_MAX_PIXELS" envDefault:"40000000"`
	ImagesBinding string `env:"IMAGES_BINDING" envDefault:"images"`
}

// postClient calls post.v1 through the sidecar.
type postClient struct{ rpc postv1.PostServiceClient }

func (c postClient) GetPost(ctx context.Context, id string) (*postv1.Post, error) {
	res, err := c.rpc.GetPost(ctx, &postv1.GetPostRequest{PostId: id})
	if err != nil {
		return nil, err
	}
	if !res.GetFound() {
		return nil, apperror.NotFoundf("post %s not found", id)
	}
	return res.GetPost(), nil
}

func (c postClient) MarkThumbnailReady(ctx context.Context, id string, version int64, width, height int) error {
	_, err := c.rpc.MarkThumbnailReady(ctx, &postv1.MarkThumbnailReadyRequest{PostId: id, Version: version, Width: int32(width), Height: int32(height)})
	return err
}

func (c postClient) MarkFailed(ctx context.Context, id string, version int64, reason string) error {
	_, err := c.rpc.MarkFailed(ctx, &postv1.MarkFailedRequest{PostId: id, Version: version, Reason: reason})
	return err
}

// Module is the whole thumbnailer app. It has no REST API; its HTTP port
// serves /healthz and /readyz only.
var Module = fx.Options(
	grpcserver.Module,
	sidecar.Module,
	httpserver.Module,
	events.Module(AppID),
	fx.Provide(
		config.Load[Config],
		func(conn *grpc.ClientConn) Posts {
			return postClient{rpc: postv1.NewPostServiceClient(sidecar.NewAppConn(conn, "post"))}
		},
		func(cfg Config, client dapr.Client, posts Posts, logger *zap.Logger) *Worker {
			n := cfg.Concurrency
			if n <= 0 {
				n = runtime.NumCPU()
			}
			opts := thumbnail.Options{Quality: cfg.Quality, MaxPixels: cfg.MaxPixels}
			return NewWorker(posts, blob.NewDapr(client, cfg.ImagesBinding), opts, n, logger)
		},
	),
	fx.Invoke(func(sub *events.Subscriber, w *Worker) error {
		return sub.Subscribe(events.TopicThumbnails, map[string]events.Handler{
			postevents.TypeThumbnailRequested: w.Handle,
		})
	}),
)
