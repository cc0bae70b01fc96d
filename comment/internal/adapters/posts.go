package adapters

import (
	"context"
	"time"

	"pixshare/comment/internal/app"
	"pixshare/contracts/postclient"
	"pixshare/platform/cache"
)

// Posts asks the post service whether a post exists (contracts/postclient
// through the sidecar), caching the answer briefly per post.
type Posts struct {
	client *postclient.Client
	cache  cache.Cache
	ttl    time.Duration
}

// NewPosts returns a Posts over client; ttl 0 disables the cache.
func NewPosts(client *postclient.Client, c cache.Cache, ttl time.Duration) *Posts {
	return &Posts{client: client, cache: c, ttl: ttl}
}

func postKey(id string) string { return "post:" + id }

// Get implements app.Posts. Only existing posts are cached, under one key
// per post, so Forget (on post.deleted) drops the entry for everyone.
func (p *Posts) Get(ctx context.Context, postID string) (app.Post, error) {
	var post app.Post
	if p.ttl > 0 && p.cache.Get(ctx, postKey(postID), &post) {
		return post, nil
	}
	res, err := p.client.GetPost(ctx, postID, "")
	if err != nil {
		return app.Post{}, err
	}
	post = app.Post{ID: res.GetId(), AuthorID: res.GetAuthorId()}
	if p.ttl > 0 {
		p.cache.Set(ctx, postKey(postID), post, p.ttl)
	}
	return post, nil
}

// Forget drops a post from the cache.
func (p *Posts) Forget(ctx context.Context, postID string) { p.cache.Delete(ctx, postKey(postID)) }
