// Package adapters connects the thumbnailer to the post service and to the
// image pipeline.
package adapters

import (
	"context"

	"pixshare/contracts/postclient"
	"pixshare/workers/internal/domain"
)

// Posts is the post service as the thumbnailer sees it.
type Posts struct{ client *postclient.Client }

// NewPosts returns Posts over client.
func NewPosts(client *postclient.Client) Posts { return Posts{client: client} }

// Get implements app.Posts.
func (p Posts) Get(ctx context.Context, id string) (domain.Post, error) {
	post, err := p.client.GetPost(ctx, id, "")
	if err != nil {
		return domain.Post{}, err
	}
	return domain.Post{ID: post.GetId(), Version: post.GetVersion(), ThumbnailReady: post.GetThumbnailReady()}, nil
}

// MarkThumbnailReady implements app.Posts.
func (p Posts) MarkThumbnailReady(ctx context.Context, id string, version int64, width, height int, renditionBytes map[string]int64) error {
	return p.client.MarkThumbnailReady(ctx, id, version, width, height, renditionBytes)
}

// MarkFailed implements app.Posts.
func (p Posts) MarkFailed(ctx context.Context, id string, version int64, reason string) error {
	return p.client.MarkFailed(ctx, id, version, reason)
}
