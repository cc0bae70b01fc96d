// Package service wires the comment service with fx.
package service

import (
	"go.uber.org/fx"
	"google.golang.org/grpc"
	"gorm.io/gorm"

	"pixshare/comment/internal/adapters"
	"pixshare/comment/internal/app"
	"pixshare/comment/internal/ports"
	"pixshare/contracts/postclient"
	"pixshare/contracts/userclient"
	"pixshare/platform/cache"
	"pixshare/platform/config"
	"pixshare/platform/database"
	"pixshare/platform/grpcserver"
	"pixshare/platform/httpserver"
	"pixshare/platform/outbox"
	"pixshare/platform/pubsub"
	"pixshare/platform/ratelimit"
	"pixshare/platform/sidecar"
)

// AppID is the Dapr app id.
const AppID = "comment"

// Config is the comment service's own configuration.
type Config struct {
	// Comment rate limits (COUNT/DURATION, "off" to disable one).
	CommentPerAccount ratelimit.Limit `env:"RATE_LIMIT_COMMENT_ACCOUNT" envDefault:"30/1m"`
	CommentPerClient  ratelimit.Limit `env:"RATE_LIMIT_COMMENT_CLIENT" envDefault:"120/1m"`
}

// Module is the whole comment service.
var Module = fx.Options(
	grpcserver.Module,
	sidecar.Module,
	httpserver.Module,
	database.WithDefaultURL("sqlite://.data/comment.db"),
	database.Module,
	cache.Module(AppID),
	pubsub.Module(AppID),
	outbox.Module,
	userclient.Module,
	ratelimit.Module,
	fx.Provide(
		config.Load[Config],
		fx.Annotate(adapters.NewRepository, fx.As(new(app.Repository))),
		func(conn *grpc.ClientConn, s cache.StampStore) app.Posts {
			return adapters.NewPosts(postclient.NewThroughSidecar(conn), s)
		},
		func(g *userclient.Graph) app.Blocks { return g },
		func(p *userclient.Profiles) app.Authors { return p },
		app.NewService,
		func(cfg Config) ports.Limits {
			return ports.Limits{PerAccount: cfg.CommentPerAccount, PerClient: cfg.CommentPerClient}
		},
	),
	fx.Invoke(
		func(db *gorm.DB) error { return adapters.Migrate(db) },
		ports.RegisterHTTP,
		ports.Subscribe,
	),
)
