// Package service wires the post service with fx.
package service

import (
	"context"
	"errors"
	"net/http"
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
	// UploadQuota bounds the bytes of an account's live posts (0: none).
	UploadQuota int64 `env:"UPLOAD_QUOTA_BYTES" envDefault:"2147483648"`
	// A deleted post's blobs are deleted BlobDeleteAfter after the post,
	// by a janitor that looks every BlobJanitorInterval; a sweep of the
	// whole store for orphans runs every BlobSweepInterval (0: never).
	BlobDeleteAfter     time.Duration `env:"BLOB_DELETE_AFTER" envDefault:"10m"`
	BlobJanitorInterval time.Duration `env:"BLOB_JANITOR_INTERVAL" envDefault:"1m"`
	BlobSweepInterval   time.Duration `env:"BLOB_SWEEP_INTERVAL" envDefault:"1h"`
	// Bytes of upload bodies and of images being served in flight (each
	// also held whole by the sidecar while its binding runs); a transfer
	// over budget waits up to TransferWait, then gets 503.
	UploadBudget   int64         `env:"UPLOAD_BUDGET_BYTES" envDefault:"67108864"`
	DownloadBudget int64         `env:"DOWNLOAD_BUDGET_BYTES" envDefault:"67108864"`
	TransferWait   time.Duration `env:"TRANSFER_WAIT" envDefault:"5s"`
	// A read of a processing post with "Prefer: wait=N" waits at most
	// ProcessingWaitMax (0: reads never wait) for its processing to move
	// on; at most ProcessingWaiters reads wait at once on a replica, and
	// each looks again every ProcessingWaitRecheck for reports another
	// replica recorded. Keep ProcessingWaitMax well below the gateway's
	// GATEWAY_UPSTREAM_TIMEOUT and HTTP_WRITE_TIMEOUT.
	ProcessingWaitMax     time.Duration `env:"PROCESSING_WAIT_MAX" envDefault:"20s"`
	ProcessingWaiters     int           `env:"PROCESSING_WAITERS" envDefault:"512"`
	ProcessingWaitRecheck time.Duration `env:"PROCESSING_WAIT_RECHECK" envDefault:"250ms"`
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
	case c.UploadBudget < c.UploadMaxBytes+64<<10 || c.DownloadBudget < c.UploadMaxBytes:
		return errors.New("UPLOAD_BUDGET_BYTES and DOWNLOAD_BUDGET_BYTES must each hold at least one upload of UPLOAD_MAX_BYTES")
	case c.TransferWait <= 0:
		return errors.New("TRANSFER_WAIT must be positive")
	case c.UploadQuota < 0:
		return errors.New("UPLOAD_QUOTA_BYTES must be 0 (no quota) or positive")
	case c.BlobDeleteAfter < 0 || c.BlobJanitorInterval <= 0 || c.BlobSweepInterval < 0:
		return errors.New("BLOB_DELETE_AFTER and BLOB_SWEEP_INTERVAL must not be negative, BLOB_JANITOR_INTERVAL must be positive")
	case c.ProcessingWaitMax < 0 || c.ProcessingWaitMax%time.Second != 0:
		return errors.New("PROCESSING_WAIT_MAX must be 0 (reads never wait) or whole seconds (Prefer: wait counts seconds)")
	case c.ProcessingWaiters < 0 || c.ProcessingWaitRecheck <= 0:
		return errors.New("PROCESSING_WAITERS must not be negative, PROCESSING_WAIT_RECHECK must be positive")
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
		func(cfg Config, sc sidecar.Config, client dapr.Client) app.Images {
			return blob.Streaming{Dapr: blob.NewDapr(client, cfg.ImagesBinding),
				Streamer: blob.NewStreamer(sc.HTTPAddr(), sc.APIToken, cfg.ImagesBinding)}
		},
		func(g *userclient.Graph) app.Graph { return g },
		func(p *userclient.Profiles) app.Authors { return p },
		func(cfg Config) app.Config {
			return app.Config{MaxPixels: cfg.UploadMaxPixels, RetryAfter: cfg.ImageRetryAfter,
				Quota: cfg.UploadQuota, BlobGrace: cfg.BlobDeleteAfter,
				Wait:      app.WaitConfig{Max: cfg.ProcessingWaitMax, Waiters: cfg.ProcessingWaiters, Recheck: cfg.ProcessingWaitRecheck},
				Downloads: app.NewBudget("downloads", cfg.DownloadBudget, app.DownloadOverhead, cfg.TransferWait, cfg.ImageRetryAfter)}
		},
		app.NewService,
		ports.NewGRPC,
		func(cfg Config) ports.HTTPConfig {
			return ports.HTTPConfig{MaxUploadBytes: cfg.UploadMaxBytes, MaxParts: cfg.UploadMaxParts,
				UploadPerAccount: cfg.UploadPerAccount, UploadPerClient: cfg.UploadPerClient,
				Uploads: app.NewBudget("uploads", cfg.UploadBudget, app.UploadOverhead, cfg.TransferWait, cfg.ImageRetryAfter)}
		},
	),
	fx.Invoke(
		func(db *gorm.DB) error { return adapters.Migrate(db) },
		func(srv *grpcserver.Server, g *ports.GRPC) { postv1.RegisterPostServiceServer(srv.GRPC, g) },
		ports.RegisterHTTP,
		ports.Subscribe,
		runReconciler,
		runJanitor,
		// Reads waiting for a post's processing answer as soon as the
		// server begins to stop, so that they do not hold up its drain.
		func(srv *http.Server, svc *app.Service) { srv.RegisterOnShutdown(svc.StopWaiting) },
	),
)

// runJanitor deletes garbage blobs every BlobJanitorInterval and sweeps
// the store for orphans every BlobSweepInterval, for the app's lifetime.
// Replicas may both delete one blob: deleting a missing blob succeeds.
func runJanitor(lc fx.Lifecycle, cfg Config, svc *app.Service, logger *zap.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	every := func(interval time.Duration, what string, round func(context.Context, time.Time) (int, error)) {
		if interval <= 0 {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case now := <-tick.C:
					n, err := round(ctx, now)
					switch {
					case err != nil && ctx.Err() == nil:
						logger.Warn(what+" failed; next round retries", zap.Error(err))
					case n > 0:
						logger.Info(what, zap.Int("count", n))
					}
				}
			}
		}()
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			every(cfg.BlobJanitorInterval, "deleted posts' blobs deleted", svc.CollectGarbage)
			every(cfg.BlobSweepInterval, "orphan blobs deleted", svc.SweepOrphans)
			return nil
		},
		OnStop: func(context.Context) error {
			cancel()
			wg.Wait()
			return nil
		},
	})
}

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
