package ratelimit

import (
	"go.uber.org/fx"

	"pixshare/platform/config"
)

// Config is read from the environment.
type Config struct {
	// Enabled turns every limit on or off (off for load tests).
	Enabled bool `env:"RATE_LIMIT_ENABLED" envDefault:"true"`
}

// Module provides the app's Limiter.
var Module = fx.Provide(
	config.Load[Config],
	func(cfg Config) *Limiter { return New(cfg.Enabled) },
)
