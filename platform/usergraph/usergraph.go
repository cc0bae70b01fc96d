// Package usergraph asks the user service (user.v1.GraphService through
// the local sidecar) who follows and who blocks whom, for the services
// that filter by it, caching answers briefly in the state store: a new
// follow or block takes effect there within the TTL.
package usergraph

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.uber.org/fx"
	"google.golang.org/grpc"

	"pixshare/platform/auth"
	"pixshare/platform/cache"
	"pixshare/platform/config"
	"pixshare/platform/sidecar"
	userv1 "pixshare/proto/user/v1"
)

// Config is read from the environment.
type Config struct {
	// TTL bounds how long a follow or block change takes to show; 0
	// disables the cache.
	TTL time.Duration `env:"GRAPH_CACHE_TTL" envDefault:"5s"`
	// MaxFollowing bounds the following list read for a feed.
	MaxFollowing int `env:"FEED_FOLLOWS_MAX" envDefault:"5000"`
}

// Client is a cached GraphService client. Answers live in the state store
// for the TTL (shared by the app's replicas) and, in front of it, in
// process for what is left of that TTL, so a hot check (is the reader
// blocked by this author?) costs no sidecar round trip and a change still
// shows within the TTL.
type Client struct {
	rpc   userv1.GraphServiceClient
	cache cache.Cache
	cfg   Config
	lists *cache.Local[[]string]
	flags *cache.Local[bool]
}

// New returns a Client over rpc.
func New(rpc userv1.GraphServiceClient, c cache.Cache, cfg Config) *Client {
	// Following lists can hold thousands of ids: keep fewer of them.
	return &Client{rpc: rpc, cache: c, cfg: cfg, lists: cache.NewLocal[[]string](512), flags: cache.NewLocal[bool](10000)}
}

// cached answers from the in-process layer, then the state store, then
// load, filling the layers it missed.
func cached[T any](ctx context.Context, c *Client, local *cache.Local[T], key string, load func() (T, error)) (T, error) {
	if c.cfg.TTL <= 0 {
		return load()
	}
	if v, ok := local.Get(key); ok {
		return v, nil
	}
	var e cache.Stamped[T]
	if c.cache.Get(ctx, key, &e) {
		if left := e.Left(c.cfg.TTL, time.Now()); left > 0 {
			local.Set(key, e.V, left)
			return e.V, nil
		}
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.cache.Set(ctx, key, cache.Stamped[T]{V: v, At: time.Now()}, c.cfg.TTL)
	local.Set(key, v, c.cfg.TTL)
	return v, nil
}

// Following returns the ids userID follows (at most MaxFollowing). The
// slice is shared with the cache: read it, never write into it.
func (c *Client) Following(ctx context.Context, userID string) ([]string, error) {
	ids, err := cached(ctx, c, c.lists, "following:"+userID, func() ([]string, error) {
		ids, token := []string{}, ""
		for len(ids) < c.cfg.MaxFollowing {
			res, err := c.rpc.ListFollowing(ctx, &userv1.ListFollowingRequest{UserId: userID, PageSize: 1000, PageToken: token})
			if err != nil {
				return nil, fmt.Errorf("list following of %s: %w", userID, err)
			}
			ids = append(ids, res.GetUserIds()...)
			if token = res.GetNextPageToken(); token == "" {
				break
			}
		}
		if len(ids) > c.cfg.MaxFollowing {
			ids = ids[:c.cfg.MaxFollowing]
		}
		return ids, nil
	})
	return slices.Clip(ids), err
}

// Blocked returns the ids userID blocks or is blocked by; like Following's,
// the slice is shared with the cache.
func (c *Client) Blocked(ctx context.Context, userID string) ([]string, error) {
	ids, err := cached(ctx, c, c.lists, "blocked:"+userID, func() ([]string, error) {
		res, err := c.rpc.ListBlocked(ctx, &userv1.ListBlockedRequest{UserId: userID})
		if err != nil {
			return nil, fmt.Errorf("blocks of %s: %w", userID, err)
		}
		return append([]string{}, res.GetUserIds()...), nil
	})
	return slices.Clip(ids), err
}

// IsBlocked reports whether either user blocks the other.
func (c *Client) IsBlocked(ctx context.Context, a, b string) (bool, error) {
	if a > b {
		a, b = b, a
	}
	return cached(ctx, c, c.flags, "blocked:"+a+":"+b, func() (bool, error) {
		res, err := c.rpc.IsBlocked(ctx, &userv1.IsBlockedRequest{UserId: a, OtherUserId: b})
		if err != nil {
			return false, fmt.Errorf("is blocked %s/%s: %w", a, b, err)
		}
		return res.GetBlocked(), nil
	})
}

// Module provides the Client through the app's sidecar connection.
var Module = fx.Provide(
	config.Load[Config],
	func(cfg Config, conn *grpc.ClientConn, c cache.Cache) *Client {
		return New(userv1.NewGraphServiceClient(sidecar.NewAppConn(conn, auth.UserAppID)), c, cfg)
	},
)
