package ports

import (
	"context"

	commentevents "pixshare/comment/events"
	"pixshare/platform/apperror"
	platformevents "pixshare/platform/events"
	"pixshare/post/internal/app"
	userevents "pixshare/user/events"
)

// Subscribe routes the domain events the post service reacts to.
func Subscribe(sub *platformevents.Subscriber, svc *app.Service) error {
	return sub.Subscribe(platformevents.TopicDomainEvents, map[string]platformevents.Handler{
		commentevents.TypeCommentCreated: func(ctx context.Context, ev platformevents.Event) error {
			var e commentevents.CommentCreated
			if err := platformevents.Decode(ev.Data, &e); err != nil {
				return err
			}
			return poisonIfInvalid(svc.OnComment(ctx, e.PostID, e.CommentID, false))
		},
		commentevents.TypeCommentDeleted: func(ctx context.Context, ev platformevents.Event) error {
			var e commentevents.CommentDeleted
			if err := platformevents.Decode(ev.Data, &e); err != nil {
				return err
			}
			return poisonIfInvalid(svc.OnComment(ctx, e.PostID, e.CommentID, true))
		},
		userevents.TypeUserDeleted: func(ctx context.Context, ev platformevents.Event) error {
			var e userevents.UserDeleted
			if err := platformevents.Decode(ev.Data, &e); err != nil {
				return err
			}
			if e.UserID == "" {
				return platformevents.Poison(errMissing("user_id"))
			}
			return svc.OnUserDeleted(ctx, e.UserID)
		},
	})
}

// poisonIfInvalid dead-letters events that lack what they need.
func poisonIfInvalid(err error) error {
	if apperror.Is(err, apperror.Invalid) {
		return platformevents.Poison(err)
	}
	return err
}

type errMissing string

func (e errMissing) Error() string { return "event lacks " + string(e) }
