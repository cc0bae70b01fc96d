// Package service wires the post service with fx.
package service

import (
	"context"
	"errors"
	"sync"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"gorm.io/gorm"

	"pixshare/contracts/postclient"
	"pixshare/contracts/userclient"
	"pixshare/platform/blob"
	"pixshare/platform/cache"
	"pixshare/platform/config"
	"pixshare/platform/database"
	"pixshare/platform/grpcserver"
	"pixshare/platform/httpserver"
	"pixshare/platform/outbox"
	"pixshare/platform/pubsub"
	"pixshare/platform/ratelimit"
	"pixshare/platform/sidecar"
	"pixshare/post/internal/adapters"
	"pixshare/post/internal/app"
	"pixshare/post/internal/ports"
	postv1 "pixshare/proto/post/v1"
)

// AppID is the Dapr app id.
const AppID = "post"

// Config is the post service's own configuration.
type Config struct {
	UploadMaxBytes  int64         `env:"UPLOAD_MAX_BYTES" envDefault:"20971520"`
	UploadMaxPixels int64         `env:"UPLOAD_MAX_PIXELS" envDefault:"40000000"`
	UploadMaxParts  int           `env:"UPLOAD_MAX_PARTS" envDefault:"40"`
	ImagesBinding   string        `env:"IMAGES_BINDING" envDefault:"images"`
	ImageRetryAfter time.Duration `env:"IMAGE_RETRY_AFTER" envDefault:"2s"`
	// Upload rate limits (COUNT/DURATION, "off" to disable one).
	UploadPerAccount ratelimit.Limit `env:"RATE_LIMIT_UPLOAD_ACCOUNT" envDefault:"30/1m"`
	UploadPerClient  ratelimit.Limit `env:"RATE_LIMIT_UPLOAD_CLIENT" envDefault:"60/1m"`
	// The reconciler re-sends the requests of posts still processing after
	// ReconcileAfter, checking every ReconcileInterval.
	ReconcileInterval time.Duration `env:"RECONCILE_INTERVAL" envDefault:"30s"`
	ReconcileAfter    time.Duration `env:"RECONCILE_AFTER" envDefault:"2m"`
}

// Validate rejects limits that make no sense.
func (c *Config) Validate() error {
	switch {
	case c.UploadMaxBytes < 1024:
		return errors.New("UPLOAD_MAX_BYTES must be at least 1024")
	case c.UploadMaxPixels < 1:
		return errors.New("UPLOAD_MAX_PIXELS must be positive")
	case c.UploadMaxParts < 2:
		return errors.New("UPLOAD_MAX_PARTS must be at least 2")
	case c.ReconcileInterval <= 0 || c.ReconcileAfter <= 0:
		return errors.New("RECONCILE_INTERVAL and RECONCILE_AFTER must be positive")
	}
	return nil
}

// Module is the whole post service.
var Module = fx.Options(
	fx.Supply(grpcserver.Callers(postclient.Callers())),
	grpcserver.Module,
	sidecar.Module,
	httpserver.Module,
	database.WithDefaultURL("sqlite://.data/post.db"),
	database.Module,
	cache.Module(AppID),
	pubsub.Module(AppID),
	outbox.Module,
	userclient.Module,
	ratelimit.Module,
	fx.Provide(
		config.Load[Config],
		fx.Annotate(adapters.NewRepository, fx.As(new(app.Repository))),
		func(cfg Config, client dapr.Client) app.Images { return blob.NewDapr(client, cfg.ImagesBinding) },
		func(g *userclient.Graph) app.Graph { return g },
		func(p *userclient.Profiles) app.Authors { return p },
		func(cfg Config) app.Config {
			return app.Config{MaxPixels: cfg.UploadMaxPixels, RetryAfter: cfg.ImageRetryAfter}
		},
		app.NewService,
		ports.NewGRPC,
		func(cfg Config) ports.HTTPConfig {
			return ports.HTTPConfig{MaxUploadBytes: cfg.UploadMaxBytes, MaxParts: cfg.UploadMaxParts,
				UploadPerAccount: cfg.UploadPerAccount, UploadPerClient: cfg.UploadPerClient}
		},
	),
	fx.Invoke(
		func(db *gorm.DB) error { return adapters.Migrate(db) },
		func(srv *grpcserver.Server, g *ports.GRPC) { postv1.RegisterPostServiceServer(srv.GRPC, g) },
		ports.RegisterHTTP,
		ports.Subscribe,
		runReconciler,
	),
)

// runReconciler re-requests stuck posts for the app's lifetime.
func runReconciler(lc fx.Lifecycle, cfg Config, svc *app.Service, logger *zap.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tick := time.NewTicker(cfg.ReconcileInterval)
				defer tick.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
					}
					n, err := svc.Reconcile(ctx, cfg.ReconcileAfter)
					switch {
					case err != nil && ctx.Err() == nil:
						logger.Warn("reconcile failed", zap.Error(err))
					case n > 0:
						logger.Info("stuck posts re-requested", zap.Int("posts", n))
					}
				}
			}()
			return nil
		},
		OnStop: func(context.Context) error {
			cancel()
			wg.Wait()
			return nil
		},
	})
}
