package userclient

import (
	"context"
	"fmt"
	"slices"
	"time"

	"pixshare/platform/cache"
	userv1 "pixshare/proto/user/v1"
)

// GraphConfig is read from the environment.
type GraphConfig struct {
	// TTL bounds how long a follow or block change takes to show; 0
	// disables the cache.
	TTL time.Duration `env:"GRAPH_CACHE_TTL" envDefault:"5s"`
	// MaxFollowing bounds the following list read for a feed.
	MaxFollowing int `env:"FEED_FOLLOWS_MAX" envDefault:"5000"`
}

// Graph is a cached GraphService client: who follows and who blocks whom,
// for the services that filter by it. Answers live in the state store
// for the TTL (shared by the app's replicas) and, in front of it, in
// process for what is left of that TTL, so a hot check (is the reader
// blocked by this author?) costs no sidecar round trip and a change still
// shows within the TTL.
type Graph struct {
	rpc   userv1.GraphServiceClient
	cache cache.Cache
	cfg   GraphConfig
	lists *cache.Local[[]string]
	flags *cache.Local[bool]
}

// NewGraph returns a Graph over rpc.
func NewGraph(rpc userv1.GraphServiceClient, c cache.Cache, cfg GraphConfig) *Graph {
	// Following lists can hold thousands of ids: keep fewer of them.
	return &Graph{rpc: rpc, cache: c, cfg: cfg, lists: cache.NewLocal[[]string](512), flags: cache.NewLocal[bool](10000)}
}

// cached answers from the in-process layer, then the state store, then
// load, filling the layers it missed.
func cached[T any](ctx context.Context, c *Graph, local *cache.Local[T], key string, load func() (T, error)) (T, error) {
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
func (c *Graph) Following(ctx context.Context, userID string) ([]string, error) {
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
func (c *Graph) Blocked(ctx context.Context, userID string) ([]string, error) {
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
func (c *Graph) IsBlocked(ctx context.Context, a, b string) (bool, error) {
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
