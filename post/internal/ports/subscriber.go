package ports

import (
	"context"

	"pixshare/contracts/events"
	"pixshare/platform/pubsub"
	"pixshare/post/internal/app"
)

// Subscribe routes the domain events the post service reacts to.
func Subscribe(sub *pubsub.Subscriber, svc *app.Service) error {
	return sub.Subscribe(events.TopicDomainEvents, map[string]pubsub.Handler{
		events.TypeCommentCreated: func(ctx context.Context, ev pubsub.Event) error {
			e, err := events.ParseCommentCreated(ev.Data)
			if err != nil {
				return err
			}
			return svc.OnComment(ctx, e.PostID, e.CommentID, false)
		},
		events.TypeCommentDeleted: func(ctx context.Context, ev pubsub.Event) error {
			e, err := events.ParseCommentDeleted(ev.Data)
			if err != nil {
				return err
			}
			return svc.OnComment(ctx, e.PostID, e.CommentID, true)
		},
		events.TypeUserDeleted: func(ctx context.Context, ev pubsub.Event) error {
			e, err := events.ParseUserDeleted(ev.Data)
			if err != nil {
				return err
			}
			return svc.OnUserDeleted(ctx, e.UserID)
		},
	})
}
