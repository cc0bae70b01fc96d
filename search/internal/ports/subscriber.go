package ports

import (
	"context"

	"pixshare/contracts/events"
	"pixshare/platform/pubsub"
	"pixshare/search/internal/app"
	"pixshare/search/internal/domain"
)

// Subscribe routes the index changes of the search-index topic to the
// indexer (the indexer app's one subscription).
func Subscribe(sub *pubsub.Subscriber, ix *app.Indexer) error {
	return sub.Subscribe(events.TopicSearchIndex, map[string]pubsub.Handler{
		events.TypeIndexUpsert: func(ctx context.Context, ev pubsub.Event) error {
			e, err := events.ParseIndexUpsert(ev.Data)
			if err != nil {
				return err
			}
			return ix.Upsert(ctx, domain.Doc{
				PostID: e.PostID, AuthorID: e.AuthorID, Caption: domain.SearchText(e.Caption, e.AltText), Tags: e.Tags,
				Version: e.Version, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
			})
		},
		events.TypeIndexRemove: func(ctx context.Context, ev pubsub.Event) error {
			e, err := events.ParseIndexRemove(ev.Data)
			if err != nil {
				return err
			}
			return ix.Remove(ctx, e.PostID, e.Version)
		},
	})
}
