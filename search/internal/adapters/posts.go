// Package adapters holds the search side's adapters: the read-model
// engines (sqlengine, esengine, and the contract suite both pass) and the
// post service as the search service sees it.
package adapters

import (
	"context"
	"time"

	"pixshare/contracts/postclient"
	"pixshare/search/internal/domain"
)

// LivePosts asks the post service for the live posts behind search hits.
type LivePosts struct{ client *postclient.Client }

// NewLivePosts returns LivePosts over client.
func NewLivePosts(client *postclient.Client) LivePosts { return LivePosts{client: client} }

// Live implements app.LivePosts.
func (l LivePosts) Live(ctx context.Context, viewer string, ids []string) ([]domain.Doc, error) {
	posts, err := l.client.GetPosts(ctx, ids, viewer)
	if err != nil {
		return nil, err
	}
	docs := make([]domain.Doc, len(posts))
	for i, p := range posts {
		docs[i] = domain.Doc{PostID: p.GetId(), AuthorID: p.GetAuthorId(), Caption: p.GetCaption(), Tags: p.GetTags(),
			Version: p.GetVersion(), CreatedAt: time.UnixMilli(p.GetCreatedAt()).UTC(), UpdatedAt: time.UnixMilli(p.GetUpdatedAt()).UTC()}
	}
	return docs, nil
}
