// Package service wires the user service with fx.
package service

import (
	"context"
	"fmt"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"gorm.io/gorm"

	"pixshare/contracts/userclient"
	"pixshare/platform/auth"
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
	userv1 "pixshare/proto/user/v1"
	"pixshare/user/internal/adapters"
	"pixshare/user/internal/app"
	"pixshare/user/internal/ports"
)

// AppID is the Dapr app id.
const AppID = "user"

// Config is the user service's own configuration.
type Config struct {
	JWTIssuer     string        `env:"JWT_ISSUER" envDefault:"pixshare"`
	JWTAudience   string        `env:"JWT_AUDIENCE" envDefault:"pixshare-api"`
	JWTTTL        time.Duration `env:"JWT_TTL" envDefault:"1h"`
	SecretStore   string        `env:"SECRET_STORE" envDefault:"secrets"`
	JWTSecretName string        `env:"JWT_SECRET_NAME" envDefault:"jwt-signing-key"`
	// JWTKeyReload is how often the key secret is read again, so a rotation
	// reaches every replica without a restart (where the secret store reads
	// live, as Kubernetes' does); 0 reads it at start only.
	JWTKeyReload time.Duration `env:"JWT_KEY_RELOAD" envDefault:"1m"`
	// Rate limits (COUNT/DURATION, "off" to disable one).
	RegisterPerClient ratelimit.Limit `env:"RATE_LIMIT_REGISTER" envDefault:"10/1m"`
	LoginPerClient    ratelimit.Limit `env:"RATE_LIMIT_LOGIN_CLIENT" envDefault:"30/1m"`
	LoginPerAccount   ratelimit.Limit `env:"RATE_LIMIT_LOGIN_ACCOUNT" envDefault:"10/1m"`
	AvatarPerAccount  ratelimit.Limit `env:"RATE_LIMIT_AVATAR" envDefault:"10/1m"`
	// Avatars: the upload limit and the pixel limit checked from the
	// header before anything is stored.
	AvatarMaxBytes  int64  `env:"AVATAR_MAX_BYTES" envDefault:"5242880"`
	AvatarMaxPixels int64  `env:"UPLOAD_MAX_PIXELS" envDefault:"40000000"`
	ImagesBinding   string `env:"IMAGES_BINDING" envDefault:"images"`
	// OWASP's argon2id recommendation: 19 MiB, 2 iterations.
	Argon2MemoryKiB  uint32 `env:"ARGON2_MEMORY_KIB" envDefault:"19456"`
	Argon2Iterations uint32 `env:"ARGON2_ITERATIONS" envDefault:"2"`
	// PasswordHashConcurrency caps the argon2id hashes running at once
	// (each allocates ARGON2_MEMORY_KIB, and the collector frees it only
	// later): at 4 the hostile-load suite measured user at 187 MiB of its
	// 192 MiB budget, at 2 well inside it, and two hashes already keep two
	// cores busy. A login waits up to PasswordHashWait for a slot, then
	// answers 503 with Retry-After.
	PasswordHashConcurrency int           `env:"PASSWORD_HASH_CONCURRENCY" envDefault:"2"`
	PasswordHashWait        time.Duration `env:"PASSWORD_HASH_WAIT" envDefault:"2s"`
	// Follow and block changes per account (COUNT/DURATION, "off").
	RelationPerAccount ratelimit.Limit `env:"RATE_LIMIT_RELATION" envDefault:"60/1m"`
	// LoginAccountSoft is the per-account limit over every address: past
	// it, each login of that account is slowed by LoginSlowDelay, never
	// refused, so nobody can lock a user out by failing on purpose.
	LoginAccountSoft ratelimit.Limit `env:"RATE_LIMIT_LOGIN_ACCOUNT_SOFT" envDefault:"100/10m"`
	LoginSlowDelay   time.Duration   `env:"LOGIN_SLOW_DELAY" envDefault:"1s"`
}

// Validate rejects settings that would weaken tokens or passwords.
func (c *Config) Validate() error {
	if c.JWTTTL < time.Minute || c.JWTTTL > 24*time.Hour {
		return fmt.Errorf("JWT_TTL must be between 1m and 24h, got %s", c.JWTTTL)
	}
	if c.Argon2MemoryKiB < 8*1024 || c.Argon2Iterations < 1 {
		return fmt.Errorf("ARGON2_MEMORY_KIB must be at least 8192 and ARGON2_ITERATIONS at least 1")
	}
	if c.PasswordHashConcurrency < 1 || c.PasswordHashWait < 0 {
		return fmt.Errorf("PASSWORD_HASH_CONCURRENCY must be at least 1 and PASSWORD_HASH_WAIT not negative")
	}
	if c.LoginSlowDelay < 0 || c.LoginSlowDelay > 10*time.Second {
		return fmt.Errorf("LOGIN_SLOW_DELAY must be between 0 and 10s, got %s", c.LoginSlowDelay)
	}
	return nil
}

// Module is the whole user service.
var Module = fx.Options(
	fx.Supply(grpcserver.Callers(userclient.Callers())),
	grpcserver.Module,
	sidecar.Module,
	httpserver.Module,
	database.WithDefaultURL("sqlite://.data/user.db"),
	database.Module,
	cache.Module(AppID),
	pubsub.Module(AppID),
	outbox.Module,
	auth.MiddlewareModule,
	ratelimit.Module,
	fx.Provide(
		config.Load[Config],
		fx.Annotate(adapters.NewRepository, fx.As(new(app.Repository))),
		func(cfg Config) app.PasswordHasher {
			return adapters.NewLimitedHasher(adapters.NewArgon2Hasher(cfg.Argon2MemoryKiB, cfg.Argon2Iterations),
				cfg.PasswordHashConcurrency, cfg.PasswordHashWait)
		},
		func(cfg Config) *adapters.JWTTokens {
			return adapters.NewJWTTokens(cfg.JWTIssuer, cfg.JWTAudience, cfg.JWTTTL)
		},
		func(t *adapters.JWTTokens) app.Tokens { return t },
		func(cfg Config, client dapr.Client) app.Images { return blob.NewDapr(client, cfg.ImagesBinding) },
		func(cfg Config) app.AvatarConfig { return app.AvatarConfig{MaxPixels: cfg.AvatarMaxPixels} },
		func(cfg Config) ports.AvatarLimits { return ports.AvatarLimits{MaxBytes: cfg.AvatarMaxBytes} },
		app.NewService,
		func(s *app.Service) auth.Authenticator { return app.LocalAuthenticator{S: s} },
		ports.NewGRPC,
		func(cfg Config) ports.Limits {
			return ports.Limits{Register: cfg.RegisterPerClient, LoginClient: cfg.LoginPerClient, LoginAccount: cfg.LoginPerAccount,
				LoginAccountSoft: cfg.LoginAccountSoft, LoginSlowDelay: cfg.LoginSlowDelay,
				Avatar: cfg.AvatarPerAccount, Relation: cfg.RelationPerAccount}
		},
	),
	fx.Invoke(
		func(db *gorm.DB) error { return adapters.Migrate(db) },
		func(srv *grpcserver.Server, g *ports.GRPC) {
			userv1.RegisterAuthServiceServer(srv.GRPC, g)
			userv1.RegisterGraphServiceServer(srv.GRPC, g)
			userv1.RegisterProfileServiceServer(srv.GRPC, g)
			userv1.RegisterAvatarServiceServer(srv.GRPC, g)
		},
		ports.RegisterHTTP,
		loadSigningKey,
	),
)

// loadSigningKey reads the JWT keys from the secret store once the sidecar
// is up, then again every JWTKeyReload: a failed reread keeps the keys it
// has (a secret store outage logs nobody out).
func loadSigningKey(lc fx.Lifecycle, cfg Config, client dapr.Client, tokens *adapters.JWTTokens, logger *zap.Logger) {
	load := func(ctx context.Context) error {
		secret, err := adapters.LoadSigningKey(ctx, client, cfg.SecretStore, cfg.JWTSecretName)
		if err != nil {
			return err
		}
		ids, changed, err := tokens.SetKeys(secret)
		if err != nil {
			return err
		}
		if changed {
			logger.Info("token keys loaded", zap.String("store", cfg.SecretStore), zap.String("signing_kid", ids[0]), zap.Strings("verifying_kids", ids))
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(start context.Context) error {
			if err := load(start); err != nil {
				cancel()
				close(done)
				return err
			}
			go func() {
				defer close(done)
				if cfg.JWTKeyReload <= 0 {
					return
				}
				tick := time.NewTicker(cfg.JWTKeyReload)
				defer tick.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
						rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
						if err := load(rctx); err != nil && ctx.Err() == nil {
							logger.Warn("token keys not reread; keeping the current ones", zap.Error(err))
						}
						rcancel()
					}
				}
			}()
			return nil
		},
		OnStop: func(context.Context) error {
			cancel()
			<-done
			return nil
		},
	})
}
