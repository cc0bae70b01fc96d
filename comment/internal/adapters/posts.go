package adapters

import (
	"context"
	"time"

	"pixshare/comment/internal/app"
	"pixshare/contracts/postclient"
	"pixshare/contracts/stamps"
	"pixshare/platform/cache"
)

// Posts asks the post service whether a post exists and who wrote it
// (contracts/postclient through the sidecar), keeping the answers in
// process, checked against the post's stamp: the post service replaces it
// when the post is deleted, so a deleted post is refused on the very next
// request.
type Posts struct {
	client *postclient.Client
	cache  *cache.Checked[app.Post]
}

// NewPosts returns a Posts over client, with copies checked against s.
func NewPosts(client *postclient.Client, s cache.StampStore) *Posts {
	return &Posts{client: client, cache: cache.NewChecked[app.Post](s, 10000, 10*time.Minute)}
}

// Get implements app.Posts.
func (p *Posts) Get(ctx context.Context, postID string) (app.Post, error) {
	return p.cache.Get(ctx, postID, []string{stamps.Post(postID)}, func(ctx context.Context) (app.Post, error) {
		res, err := p.client.GetPost(ctx, postID, "")
		if err != nil {
			return app.Post{}, err
		}
		return app.Post{ID: res.GetId(), AuthorID: res.GetAuthorId()}, nil
	})
}

// Forget drops a post from this replica's cache (the others notice by its
// stamp).
func (p *Posts) Forget(_ context.Context, postID string) { p.cache.Drop(postID) }
