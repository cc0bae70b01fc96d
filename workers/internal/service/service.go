// Package service wires the thumbnailer with fx.
package service

import (
	"runtime"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"pixshare/contracts/postclient"
	"pixshare/contracts/userclient"
	"pixshare/platform/blob"
	"pixshare/platform/config"
	"pixshare/platform/grpcserver"
	"pixshare/platform/httpserver"
	"pixshare/platform/pubsub"
	"pixshare/platform/sidecar"
	"pixshare/workers/internal/adapters"
	"pixshare/workers/internal/adapters/thumbnail"
	"pixshare/workers/internal/app"
	"pixshare/workers/internal/ports"
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

// Module is the whole thumbnailer app. It has no REST API; its HTTP port
// serves /healthz and /readyz only.
var Module = fx.Options(
	grpcserver.Module,
	sidecar.Module,
	httpserver.Module,
	pubsub.Module(AppID),
	fx.Provide(
		config.Load[Config],
		func(conn *grpc.ClientConn) app.Posts { return adapters.NewPosts(postclient.NewThroughSidecar(conn)) },
		func(cfg Config, client dapr.Client) app.Images { return blob.NewDapr(client, cfg.ImagesBinding) },
		func(conn *grpc.ClientConn) app.Avatars { return userclient.NewAvatarsThroughSidecar(conn) },
		func(cfg Config) adapters.Renderer {
			return adapters.NewRenderer(thumbnail.Options{Quality: cfg.Quality, MaxPixels: cfg.MaxPixels})
		},
		func(cfg Config, posts app.Posts, avatars app.Avatars, images app.Images, r adapters.Renderer, logger *zap.Logger) *app.Thumbnailer {
			n := cfg.Concurrency
			if n <= 0 {
				n = runtime.NumCPU()
			}
			return app.NewThumbnailer(posts, avatars, images, r, r, n, logger)
		},
	),
	fx.Invoke(ports.Subscribe),
)
