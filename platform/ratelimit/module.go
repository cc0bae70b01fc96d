package ratelimit

import (
	"go.uber.org/fx"

	"pixshare/platform/config"
)

// Config is read from the environment.
type Config struct {
	// Enabled turns every limit on or off (off for load tests).
	Enabled bool `env:"RATE_LIMIT_ENABLED" envDefault:"true"`
	// MaxKeys bounds the buckets held (clients and accounts being
	// limited at once), so memory stays bounded under any key churn.
	MaxKeys int `env:"RATE_LIMIT_MAX_KEYS" envDefault:"50000"`
}

// Module provides the app's Limiter.
var Module = fx.Provide(
	config.Load[Config],
	func(cfg Config) *Limiter { return NewBounded(cfg.Enabled, cfg.MaxKeys) },
)
