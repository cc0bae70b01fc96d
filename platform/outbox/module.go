package outbox

import (
	"context"
	"sync"

	"go.uber.org/fx"

	"pixshare/platform/config"
)

// Module runs the relay for the app's lifetime. The app provides
// events.Publisher and *gorm.DB; it must call Migrate in its own migration.
var Module = fx.Module("outbox",
	fx.Provide(config.Load[RelayConfig], NewRelay),
	fx.Invoke(func(lc fx.Lifecycle, r *Relay) {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r.Run(ctx)
				}()
				return nil
			},
			OnStop: func(context.Context) error {
				cancel()
				wg.Wait()
				return nil
			},
		})
	}),
)
