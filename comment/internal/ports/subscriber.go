package ports

import (
	"context"

	"pixshare/comment/internal/app"
	"pixshare/contracts/events"
	"pixshare/platform/pubsub"
)

// Subscribe routes the domain events the comment service reacts to.
func Subscribe(sub *pubsub.Subscriber, svc *app.Service) error {
	return sub.Subscribe(events.TopicDomainEvents, map[string]pubsub.Handler{
		events.TypePostDeleted: func(ctx context.Context, ev pubsub.Event) error {
			e, err := events.ParsePostDeleted(ev.Data)
			if err != nil {
				return err
			}
			return svc.OnPostDeleted(ctx, e.PostID)
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
