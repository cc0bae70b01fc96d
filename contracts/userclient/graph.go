package userclient

import (
	"context"
	"fmt"
	"slices"
	"time"

	"pixshare/contracts/stamps"
	"pixshare/platform/cache"
	userv1 "pixshare/proto/user/v1"
)

// GraphConfig is read from the environment.
type GraphConfig struct {
	// MaxFollowing bounds the following list read for a feed.
	MaxFollowing int `env:"FEED_FOLLOWS_MAX" envDefault:"5000"`
}

// Graph asks the user service (user.v1.GraphService) who follows and who
// blocks whom, for the services that filter by it. Answers are kept in
// process, checked against the stamp of the user they are about (the
// first user of a pair: a block or unblock replaces both users' stamps),
// so a new follow, block or unblock shows on the very next request.
type Graph struct {
	rpc   userv1.GraphServiceClient
	cfg   GraphConfig
	lists *cache.Checked[[]string]
	flags *cache.Checked[bool]
}

// NewGraph returns a Graph over rpc, with copies checked against s.
func NewGraph(rpc userv1.GraphServiceClient, s cache.StampStore, cfg GraphConfig) *Graph {
	// Following lists can hold thousands of ids: keep fewer of them.
	return &Graph{rpc: rpc, cfg: cfg,
		lists: cache.NewChecked[[]string](s, 512, 10*time.Minute),
		flags: cache.NewChecked[bool](s, 10000, 10*time.Minute)}
}

// Following returns the ids userID follows (at most MaxFollowing). The
// slice is shared with the cache: read it, never write into it.
func (c *Graph) Following(ctx context.Context, userID string) ([]string, error) {
	ids, err := c.lists.Get(ctx, "following:"+userID, []string{stamps.User(userID)}, func(ctx context.Context) ([]string, error) {
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
	ids, err := c.lists.Get(ctx, "blocked:"+userID, []string{stamps.User(userID)}, func(ctx context.Context) ([]string, error) {
		res, err := c.rpc.ListBlocked(ctx, &userv1.ListBlockedRequest{UserId: userID})
		if err != nil {
			return nil, fmt.Errorf("blocks of %s: %w", userID, err)
		}
		return append([]string{}, res.GetUserIds()...), nil
	})
	return slices.Clip(ids), err
}

// IsBlocked reports whether either user blocks the other. Pass the viewer
// first: the answer is checked against the viewer's stamp, which the
// request has read already to authenticate.
func (c *Graph) IsBlocked(ctx context.Context, viewer, other string) (bool, error) {
	return c.flags.Get(ctx, "blocked:"+viewer+":"+other, []string{stamps.User(viewer)}, func(ctx context.Context) (bool, error) {
		res, err := c.rpc.IsBlocked(ctx, &userv1.IsBlockedRequest{UserId: viewer, OtherUserId: other})
		if err != nil {
			return false, fmt.Errorf("is blocked %s/%s: %w", viewer, other, err)
		}
		return res.GetBlocked(), nil
	})
}
