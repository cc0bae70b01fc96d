// Package service wires the mailer with fx.
package service

import (
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"gorm.io/gorm"

	"pixshare/platform/config"
	"pixshare/platform/database"
	"pixshare/platform/grpcserver"
	"pixshare/platform/httpserver"
	"pixshare/platform/pubsub"
	"pixshare/platform/sidecar"
	"pixshare/workers/internal/mailer/adapters"
	"pixshare/workers/internal/mailer/app"
	"pixshare/workers/internal/mailer/ports"
)

// AppID is the Dapr app id.
const AppID = "mailer"

// Config is the mailer's configuration.
type Config struct {
	// Binding is the Dapr bindings.smtp component.
	Binding string `env:"MAIL_BINDING" envDefault:"mail"`
	// Lease is how long one attempt owns a mail; it must outlast a send.
	Lease time.Duration `env:"MAIL_SEND_LEASE" envDefault:"1m"`
	// MaxAttempts failed attempts dead-letter a mail.
	MaxAttempts int `env:"MAIL_MAX_ATTEMPTS" envDefault:"12"`
}

// Module is the whole mailer app. It has no REST API; its HTTP port serves
// /healthz and /readyz only.
var Module = fx.Options(
	grpcserver.Module,
	sidecar.Module,
	httpserver.Module,
	database.WithDefaultURL("sqlite://.data/mailer.db"),
	database.Module,
	pubsub.Module(AppID),
	fx.Provide(
		config.Load[Config],
		func(db *gorm.DB) app.Store { return adapters.NewStore(db) },
		func(cfg Config, client dapr.Client) app.Sender { return adapters.NewSMTP(client, cfg.Binding) },
		func(cfg Config, store app.Store, sender app.Sender, logger *zap.Logger) *app.Mailer {
			return app.New(store, sender, cfg.Lease, max(cfg.MaxAttempts, 1), logger)
		},
	),
	fx.Invoke(
		func(db *gorm.DB) error { return adapters.Migrate(db) },
		ports.Subscribe,
	),
)
