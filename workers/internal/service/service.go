// Package service wires the thumbnailer with fx.
package service

import (
	"context"
	"errors"
	"runtime"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"gorm.io/gorm"

	"pixshare/contracts/postclient"
	"pixshare/contracts/userclient"
	"pixshare/platform/blob"
	"pixshare/platform/config"
	"pixshare/platform/database"
	"pixshare/platform/grpcserver"
	"pixshare/platform/httpserver"
	"pixshare/platform/pubsub"
	"pixshare/platform/sidecar"
	"pixshare/workers/internal/adapters"
	"pixshare/workers/internal/adapters/attempts"
	"pixshare/workers/internal/adapters/intake"
	"pixshare/workers/internal/adapters/thumbnail"
	"pixshare/workers/internal/app"
	"pixshare/workers/internal/ports"
)

// AppID is the Dapr app id.
const AppID = "thumbnailer"

// Config is the thumbnailer's configuration.
type Config struct {
	// MemoryBudget is the bytes the pictures being made may take together,
	// by their estimated cost (docs/images.md, "Admission"); it stays
	// well under the app's memory limit, which also holds the runtime,
	// garbage awaiting collection and the sidecar clients' buffers.
	MemoryBudget int64 `env:"THUMBNAIL_MEMORY_BUDGET" envDefault:"536870912"`
	// UploadMaxBytes is the largest original (the post service's limit),
	// the budget taken before one is read.
	UploadMaxBytes int64 `env:"UPLOAD_MAX_BYTES" envDefault:"20971520"`
	// MaxAttempts is how many attempts that crash or kill the thumbnailer
	// a picture gets before its post is marked failed and its message
	// dead-lettered.
	MaxAttempts int `env:"THUMBNAIL_MAX_ATTEMPTS" envDefault:"3"`
	// Workers is how many requests are made at once (0: one per core the
	// Go runtime uses, GOMAXPROCS). Each decode is itself parallel, so
	// more workers than cores mostly overlap the waits on the sidecar
	// (reading the original, storing the sizes, reporting); the memory
	// budget still bounds what the pictures under way take together.
	Workers       int    `env:"THUMBNAIL_WORKERS" envDefault:"0"`
	Quality       int    `env:"THUMBNAIL_QUALITY" envDefault:"85"`
	MaxPixels     int64  `env:"UPLOAD_MAX_PIXELS" envDefault:"40000000"`
	ImagesBinding string `env:"IMAGES_BINDING" envDefault:"images"`
	// CrashMarker is a test-only fault hook: a picture whose bytes hold it
	// kills the process (SIGKILL) when rendered. Empty (the default) in
	// every deployment.
	CrashMarker string `env:"THUMBNAIL_TEST_CRASH_MARKER"`
}

// Validate rejects limits that make no sense.
func (c *Config) Validate() error {
	switch {
	case c.MemoryBudget < 16<<20:
		return errors.New("THUMBNAIL_MEMORY_BUDGET must be at least 16 MiB (16777216)")
	case c.UploadMaxBytes < 1024 || c.UploadMaxBytes > c.MemoryBudget:
		return errors.New("UPLOAD_MAX_BYTES must be at least 1024 and at most THUMBNAIL_MEMORY_BUDGET")
	case c.MaxAttempts < 1:
		return errors.New("THUMBNAIL_MAX_ATTEMPTS must be at least 1")
	case c.Workers < 0:
		return errors.New("THUMBNAIL_WORKERS must be 0 (one per core) or positive")
	}
	return nil
}

// renderer is what the thumbnailer renders with: the pipeline, or the
// pipeline behind the test-only crash hook.
type renderer interface {
	app.Renderer
	app.AvatarRenderer
}

// Module is the whole thumbnailer app. It has no REST API; its HTTP port
// serves /healthz and /readyz only. Its database holds the work in
// progress only: the deliveries taken and not finished (the work queue)
// and the attempts of each (the poison count).
var Module = fx.Options(
	grpcserver.Module,
	sidecar.Module,
	httpserver.Module,
	database.WithDefaultURL("sqlite://.data/thumbnailer.db"),
	database.Module,
	pubsub.Module(AppID),
	fx.Provide(
		config.Load[Config],
		func(conn *grpc.ClientConn) app.Posts { return adapters.NewPosts(postclient.NewThroughSidecar(conn)) },
		func(cfg Config, sc sidecar.Config, client dapr.Client) app.Images {
			return adapters.NewImages(blob.NewDapr(client, cfg.ImagesBinding),
				blob.NewStreamer(sc.HTTPAddr(), sc.APIToken, cfg.ImagesBinding), cfg.UploadMaxBytes)
		},
		func(conn *grpc.ClientConn) app.Avatars { return userclient.NewAvatarsThroughSidecar(conn) },
		func(db *gorm.DB) app.Attempts { return attempts.New(db) },
		func(lc fx.Lifecycle, cfg Config, db *gorm.DB, sub *pubsub.Subscriber, logger *zap.Logger) *ports.Queue {
			workers := cfg.Workers
			if workers == 0 {
				workers = runtime.GOMAXPROCS(0)
			}
			q := ports.NewQueue(intake.New(db), sub, workers, logger)
			// Started after the subscriber, stopped before it: deliveries
			// that arrive while it stops are answered RETRY.
			lc.Append(fx.Hook{
				OnStart: func(context.Context) error { q.Start(); return nil },
				OnStop:  func(ctx context.Context) error { q.Stop(ctx); return nil },
			})
			return q
		},
		func(cfg Config, logger *zap.Logger) renderer {
			r := adapters.NewRenderer(thumbnail.Options{Quality: cfg.Quality, MaxPixels: cfg.MaxPixels})
			if cfg.CrashMarker != "" {
				logger.Warn("test-only fault hook on: pictures holding THUMBNAIL_TEST_CRASH_MARKER kill the process")
				return adapters.CrashingRenderer{Renderer: r, Marker: []byte(cfg.CrashMarker)}
			}
			return r
		},
		func(cfg Config, posts app.Posts, avatars app.Avatars, images app.Images, r renderer, a app.Attempts, logger *zap.Logger) *app.Thumbnailer {
			return app.NewThumbnailer(posts, avatars, images, r, r, a, app.Options{
				MemoryBudget: cfg.MemoryBudget, FetchReserve: cfg.UploadMaxBytes, MaxAttempts: cfg.MaxAttempts,
			}, logger)
		},
	),
	fx.Invoke(
		func(db *gorm.DB) error { return attempts.Migrate(db) },
		func(db *gorm.DB) error { return intake.Migrate(db) },
		ports.Subscribe,
	),
)
