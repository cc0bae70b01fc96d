package adapters

import (
	"context"
	"fmt"
	"time"

	"pixshare/comment/internal/app"
	"pixshare/platform/apperror"
	"pixshare/platform/cache"
	postv1 "pixshare/proto/post/v1"
)

// Blocker tells whether either user blocks the other.
type Blocker interface {
	IsBlocked(ctx context.Context, a, b string) (bool, error)
}

// Posts asks the post service whether a post exists (GetPost through the
// sidecar), caching the answer briefly per post, and applies blocks between
// the viewer and the post's author itself.
type Posts struct {
	rpc    postv1.PostServiceClient
	blocks Blocker
	cache  cache.Cache
	ttl    time.Duration
}

// NewPosts returns a Posts over rpc.
func NewPosts(rpc postv1.PostServiceClient, blocks Blocker, c cache.Cache, ttl time.Duration) *Posts {
	return &Posts{rpc: rpc, blocks: blocks, cache: c, ttl: ttl}
}

func postKey(id string) string { return "post:" + id }

// Visible implements app.Posts. Only existing posts are cached, under one
// key per post, so Forget (on post.deleted) drops the entry for everyone.
func (p *Posts) Visible(ctx context.Context, postID, viewer string) (app.Post, error) {
	var post app.Post
	if !(p.ttl > 0 && p.cache.Get(ctx, postKey(postID), &post)) {
		res, err := p.rpc.GetPost(ctx, &postv1.GetPostRequest{PostId: postID})
		if err != nil {
			return app.Post{}, fmt.Errorf("get post %s: %w", postID, err)
		}
		if !res.GetFound() {
			return app.Post{}, apperror.NotFoundf("post not found")
		}
		post = app.Post{ID: res.GetPost().GetId(), AuthorID: res.GetPost().GetAuthorId()}
		if p.ttl > 0 {
			p.cache.Set(ctx, postKey(postID), post, p.ttl)
		}
	}
	if viewer != "" && viewer != post.AuthorID {
		blocked, err := p.blocks.IsBlocked(ctx, viewer, post.AuthorID)
		if err != nil {
			return app.Post{}, err
		}
		if blocked {
			return app.Post{}, apperror.NotFoundf("post not found")
		}
	}
	return post, nil
}

// Forget drops a post from the cache.
func (p *Posts) Forget(ctx context.Context, postID string) { p.cache.Delete(ctx, postKey(postID)) }
