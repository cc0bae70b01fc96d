package pubsub

import (
	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"pixshare/platform/config"
	"pixshare/platform/grpcserver"
)

// Config is read from the environment.
type Config struct {
	// PubSub is the Dapr pub/sub component.
	PubSub string `env:"PUBSUB_NAME" envDefault:"pubsub"`
}

// Module provides a Publisher and a Subscriber for app.
func Module(app string) fx.Option {
	return fx.Module("events",
		fx.Provide(
			config.Load[Config],
			fx.Annotate(func(cfg Config, client dapr.Client) *DaprPublisher {
				return NewDaprPublisher(client, cfg.PubSub)
			}, fx.As(new(Publisher))),
			func(cfg Config, srv *grpcserver.Server, pub Publisher, logger *zap.Logger) *Subscriber {
				return NewSubscriber(srv.Callback, cfg.PubSub, app, pub, logger)
			},
		),
	)
}
