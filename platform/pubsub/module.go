package pubsub

import (
	"context"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"pixshare/platform/config"
	"pixshare/platform/health"
)

// Config is read from the environment.
type Config struct {
	// PubSub is the Dapr pub/sub component.
	PubSub string `env:"PUBSUB_NAME" envDefault:"pubsub"`
}

// Module provides a Publisher and a Subscriber for app. The Subscriber's
// streams open once the sidecar is up (its start hook runs after the
// sidecar's) and drain on stop; readiness waits for them.
func Module(app string) fx.Option {
	return fx.Module("events",
		fx.Provide(
			config.Load[Config],
			fx.Annotate(func(cfg Config, client dapr.Client) *DaprPublisher {
				return NewDaprPublisher(client, cfg.PubSub)
			}, fx.As(new(Publisher))),
			func(lc fx.Lifecycle, cfg Config, client dapr.Client, pub Publisher, logger *zap.Logger) *Subscriber {
				s := NewSubscriber(client, cfg.PubSub, app, pub, logger)
				lc.Append(fx.Hook{
					OnStart: func(context.Context) error { s.Start(); return nil },
					OnStop:  func(ctx context.Context) error { s.Stop(ctx); return nil },
				})
				return s
			},
			health.AsCheck(func(s *Subscriber) health.Check {
				return health.Check{Name: "subscriptions", Probe: func(context.Context) error { return s.Ready() }}
			}),
		),
	)
}
