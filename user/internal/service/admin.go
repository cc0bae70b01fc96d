package service

import (
	"context"
	"fmt"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"gorm.io/gorm"

	"pixshare/platform/blob"
	"pixshare/platform/cache"
	"pixshare/platform/config"
	"pixshare/platform/database"
	"pixshare/platform/sidecar"
	"pixshare/user/internal/adapters"
	"pixshare/user/internal/app"
)

// AdminModule runs one operator command through the running user app's
// sidecar (its stamps must change with the account) and the user
// database, then stops: `user suspend NAME`, `user unsuspend NAME`.
func AdminModule(command, username string) fx.Option {
	return fx.Options(
		sidecar.Module,
		database.WithDefaultURL("sqlite://.data/user.db"),
		database.Module,
		cache.Module(AppID),
		fx.Provide(
			config.Load[Config],
			fx.Annotate(adapters.NewRepository, fx.As(new(app.Repository))),
			func(cfg Config) app.PasswordHasher {
				return adapters.NewArgon2Hasher(cfg.Argon2MemoryKiB, cfg.Argon2Iterations)
			},
			func(cfg Config) app.Tokens { return adapters.NewJWTTokens(cfg.JWTIssuer, cfg.JWTAudience, cfg.JWTTTL) },
			func(cfg Config, client dapr.Client) app.Images { return blob.NewDapr(client, cfg.ImagesBinding) },
			func(cfg Config) app.AvatarConfig { return app.AvatarConfig{MaxPixels: cfg.AvatarMaxPixels} },
			app.NewService,
		),
		fx.Invoke(func(db *gorm.DB) error { return adapters.Migrate(db) }),
		fx.Invoke(func(lc fx.Lifecycle, sd fx.Shutdowner, svc *app.Service, logger *zap.Logger) {
			lc.Append(fx.Hook{OnStart: func(context.Context) error {
				go func() {
					code := 0
					if err := runAdmin(context.Background(), svc, command, username, logger); err != nil {
						logger.Error("command failed", zap.String("command", command), zap.Error(err))
						code = 1
					}
					_ = sd.Shutdown(fx.ExitCode(code))
				}()
				return nil
			}})
		}),
	)
}

func runAdmin(ctx context.Context, svc *app.Service, command, username string, logger *zap.Logger) error {
	var suspend bool
	switch command {
	case "suspend":
		suspend = true
	case "unsuspend":
	default:
		return fmt.Errorf("unknown command %q", command)
	}
	u, err := svc.SetSuspended(ctx, username, suspend)
	if err != nil {
		return err
	}
	logger.Info("account status changed", zap.String("user_id", u.ID), zap.String("username", u.Username), zap.String("status", string(u.Status)))
	return nil
}
