package ports

import (
	"context"

	commentevents "pixshare/comment/events"
	platformevents "pixshare/platform/events"
	"pixshare/post/internal/app"
	userevents "pixshare/user/events"
)

// Subscribe routes the domain events the post service reacts to.
func Subscribe(sub *platformevents.Subscriber, svc *app.Service) error {
	return sub.Subscribe(platformevents.TopicDomainEvents, map[string]platformevents.Handler{
		commentevents.TypeCommentCreated: func(ctx context.Context, ev platformevents.Event) error {
			e, err := commentevents.ParseCommentCreated(ev.Data)
			if err != nil {
				return err
			}
			return svc.OnComment(ctx, e.PostID, e.CommentID, false)
		},
		commentevents.TypeCommentDeleted: func(ctx context.Context, ev platformevents.Event) error {
			e, err := commentevents.ParseCommentDeleted(ev.Data)
			if err != nil {
				return err
			}
			return svc.OnComment(ctx, e.PostID, e.CommentID, true)
		},
		userevents.TypeUserDeleted: func(ctx context.Context, ev platformevents.Event) error {
			e, err := userevents.ParseUserDeleted(ev.Data)
			if err != nil {
				return err
			}
			return svc.OnUserDeleted(ctx, e.UserID)
		},
	})
}
