// Package cache is a read-through cache on the Dapr state store.
//
// The cache is never the source of truth: every failure (store down, slow,
// undecodable entry) is logged and treated as a miss, so an outage degrades
// to database reads instead of errors.
package cache

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/zap"

	"pixshare/platform/logging"
)

// Cache stores JSON values under string keys with a time to live.
type Cache interface {
	// Get decodes the value under key into dst and reports whether it was
	// there.
	Get(ctx context.Context, key string, dst any) bool
	// Set stores v under key for ttl.
	Set(ctx context.Context, key string, v any, ttl time.Duration)
	// Delete removes key.
	Delete(ctx context.Context, key string)
}

// Dapr is a Cache on a Dapr state store component.
type Dapr struct {
	client  dapr.Client
	store   string
	prefix  string
	timeout time.Duration
	breaker *Breaker
	logger  *zap.Logger
}

// NewDapr returns a cache on the state store named store. Keys are prefixed
// with prefix (the app id) so apps sharing a store never collide. Calls
// last at most timeout and go through breaker (nil: a breaker of its own),
// so a store that hangs costs little once the breaker has opened.
func NewDapr(client dapr.Client, store, prefix string, timeout time.Duration, breaker *Breaker, logger *zap.Logger) *Dapr {
	if breaker == nil {
		breaker = NewBreaker(0, 0)
	}
	if timeout <= 0 {
		timeout = 250 * time.Millisecond
	}
	return &Dapr{client: client, store: store, prefix: prefix + ":", timeout: timeout, breaker: breaker, logger: logger.Named("cache")}
}

// call runs f with the timeout, through the breaker.
func (c *Dapr) call(ctx context.Context, f func(ctx context.Context) error) error {
	if !c.breaker.Allow() {
		return errBreakerOpen
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err := f(ctx)
	c.breaker.Record(err == nil)
	return err
}

// Get implements Cache.
func (c *Dapr) Get(ctx context.Context, key string, dst any) bool {
	var item *dapr.StateItem
	err := c.call(ctx, func(ctx context.Context) error {
		var err error
		item, err = c.client.GetState(ctx, c.store, c.prefix+key, nil)
		return err
	})
	if err != nil {
		if err != errBreakerOpen {
			logging.FromContext(ctx, c.logger).Warn("cache get failed; reading through", zap.String("key", key), zap.Error(err))
		}
		return false
	}
	if item == nil || len(item.Value) == 0 {
		return false
	}
	if err := json.Unmarshal(item.Value, dst); err != nil {
		logging.FromContext(ctx, c.logger).Warn("cache entry undecodable; ignoring", zap.String("key", key), zap.Error(err))
		return false
	}
	return true
}

// Set implements Cache.
func (c *Dapr) Set(ctx context.Context, key string, v any, ttl time.Duration) {
	data, err := json.Marshal(v)
	if err != nil {
		logging.FromContext(ctx, c.logger).Warn("cache encode failed", zap.String("key", key), zap.Error(err))
		return
	}
	secs := int(ttl / time.Second)
	if secs < 1 {
		secs = 1
	}
	meta := map[string]string{"ttlInSeconds": strconv.Itoa(secs), "contentType": "application/json"}
	err = c.call(ctx, func(ctx context.Context) error { return c.client.SaveState(ctx, c.store, c.prefix+key, data, meta) })
	if err != nil && err != errBreakerOpen {
		logging.FromContext(ctx, c.logger).Warn("cache set failed", zap.String("key", key), zap.Error(err))
	}
}

// Delete implements Cache.
func (c *Dapr) Delete(ctx context.Context, key string) {
	err := c.call(ctx, func(ctx context.Context) error { return c.client.DeleteState(ctx, c.store, c.prefix+key, nil) })
	if err != nil && err != errBreakerOpen {
		logging.FromContext(ctx, c.logger).Warn("cache delete failed", zap.String("key", key), zap.Error(err))
	}
}

// Nop is a Cache that never holds anything (tests, or caching disabled).
type Nop struct{}

// Get implements Cache.
func (Nop) Get(context.Context, string, any) bool { return false }

// Set implements Cache.
func (Nop) Set(context.Context, string, any, time.Duration) {}

// Delete implements Cache.
func (Nop) Delete(context.Context, string) {}
