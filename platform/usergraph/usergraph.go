// Package usergraph asks the user service (user.v1.GraphService through
// the local sidecar) who follows and who blocks whom, for the services
// that filter by it, caching answers briefly in the state store: a new
// follow or block takes effect there within the TTL.
package usergraph

import (
	"context"
	"fmt"
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

// Client is a cached GraphService client.
type Client struct {
	rpc   userv1.GraphServiceClient
	cache cache.Cache
	cfg   Config
}

// New returns a Client over rpc.
func New(rpc userv1.GraphServiceClient, c cache.Cache, cfg Config) *Client {
	return &Client{rpc: rpc, cache: c, cfg: cfg}
}

func (c *Client) cached(ctx context.Context, key string, dst any, load func() error) error {
	if c.cfg.TTL > 0 && c.cache.Get(ctx, key, dst) {
		return nil
	}
	if err := load(); err != nil {
		return err
	}
	if c.cfg.TTL > 0 {
		c.cache.Set(ctx, key, dst, c.cfg.TTL)
	}
	return nil
}

// Following returns the ids userID follows (at most MaxFollowing).
func (c *Client) Following(ctx context.Context, userID string) ([]string, error) {
	ids := []string{}
	err := c.cached(ctx, "following:"+userID, &ids, func() error {
		token := ""
		for len(ids) < c.cfg.MaxFollowing {
			res, err := c.rpc.ListFollowing(ctx, &userv1.ListFollowingRequest{UserId: userID, PageSize: 1000, PageToken: token})
			if err != nil {
				return fmt.Errorf("list following of %s: %w", userID, err)
			}
			ids = append(ids, res.GetUserIds()...)
			if token = res.GetNextPageToken(); token == "" {
				break
			}
		}
		if len(ids) > c.cfg.MaxFollowing {
			ids = ids[:c.cfg.MaxFollowing]
		}
		return nil
	})
	return ids, err
}

// Blocked returns the ids userID blocks or is blocked by.
func (c *Client) Blocked(ctx context.Context, userID string) ([]string, error) {
	ids := []string{}
	err := c.cached(ctx, "blocked:"+userID, &ids, func() error {
		res, err := c.rpc.ListBlocked(ctx, &userv1.ListBlockedRequest{UserId: userID})
		if err != nil {
			return fmt.Errorf("blocks of %s: %w", userID, err)
		}
		ids = append(ids, res.GetUserIds()...)
		return nil
	})
	return ids, err
}

// IsBlocked reports whether either user blocks the other.
func (c *Client) IsBlocked(ctx context.Context, a, b string) (bool, error) {
	if a > b {
		a, b = b, a
	}
	var blocked bool
	err := c.cached(ctx, "blocked:"+a+":"+b, &blocked, func() error {
		res, err := c.rpc.IsBlocked(ctx, &userv1.IsBlockedRequest{UserId: a, OtherUserId: b})
		if err != nil {
			return fmt.Errorf("is blocked %s/%s: %w", a, b, err)
		}
		blocked = res.GetBlocked()
		return nil
	})
	return blocked, err
}

// Module provides the Client through the app's sidecar connection.
var Module = fx.Provide(
	config.Load[Config],
	func(cfg Config, conn *grpc.ClientConn, c cache.Cache) *Client {
		return New(userv1.NewGraphServiceClient(sidecar.NewAppConn(conn, auth.UserAppID)), c, cfg)
	},
)
