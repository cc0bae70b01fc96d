package adapters

import (
	"context"
	"fmt"
	"time"

	"pixshare/comment/internal/app"
	"pixshare/platform/cache"
	postv1 "pixshare/proto/post/v1"
)

// Posts asks the post service (GetPost through the sidecar), caching what
// it learns briefly per viewer.
type Posts struct {
	rpc   postv1.PostServiceClient
	cache cache.Cache
	ttl   time.Duration
}

// NewPosts returns a Posts over rpc.
func NewPosts(rpc postv1.PostServiceClient, c cache.Cache, ttl time.Duration) *Posts {
	return &Posts{rpc: rpc, cache: c, ttl: ttl}
}

// Visible implements app.Posts. Only positive answers are cached: a post
// that becomes visible is seen at once, a deleted one within the TTL.
func (p *Posts) Visible(ctx context.Context, postID, viewer string) (app.Post, error) {
	key := "post:" + postID + ":" + viewer
	var post app.Post
	if p.ttl > 0 && p.cache.Get(ctx, key, &post) {
		return post, nil
	}
	res, err := p.rpc.GetPost(ctx, &postv1.GetPostRequest{PostId: postID, ViewerId: viewer})
	if err != nil {
		return app.Post{}, fmt.Errorf("get post %s: %w", postID, err)
	}
	post = app.Post{ID: res.GetPost().GetId(), AuthorID: res.GetPost().GetAuthorId()}
	if p.ttl > 0 {
		p.cache.Set(ctx, key, post, p.ttl)
	}
	return post, nil
}
