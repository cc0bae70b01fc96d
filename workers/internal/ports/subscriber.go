// Package ports consumes the thumbnails topic for the thumbnailer.
package ports

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"pixshare/contracts/events"
	"pixshare/platform/pubsub"
	"pixshare/workers/internal/app"
	"pixshare/workers/internal/domain"
)

// Subscribe routes thumbnail requests to the thumbnailer (its one
// subscription), through q: several are made at once, each acknowledged
// once recorded. Requests that can never succeed go to the dead-letter
// topic.
func Subscribe(sub *pubsub.Subscriber, q *Queue, t *app.Thumbnailer) error {
	return sub.Subscribe(events.TopicThumbnails, q.Handlers(map[string]pubsub.Handler{
		events.TypeThumbnailRequested: func(ctx context.Context, ev pubsub.Event) error {
			e, err := events.ParseThumbnailRequested(ev.Data)
			if err != nil {
				return err
			}
			err = t.Make(ctx, domain.Request{PostID: e.PostID, Version: e.Version, OriginalKey: e.OriginalKey,
				OriginalBytes: e.OriginalBytes, Committed: committed(ev.ID)})
			if errors.Is(err, app.ErrPermanent) {
				return pubsub.Poison(err)
			}
			return err
		},
		events.TypeAvatarRequested: func(ctx context.Context, ev pubsub.Event) error {
			e, err := events.ParseAvatarRequested(ev.Data)
			if err != nil {
				return err
			}
			err = t.MakeAvatar(ctx, domain.AvatarRequest{UserID: e.UserID, Version: e.Version, OriginalKey: e.OriginalKey})
			if errors.Is(err, app.ErrPermanent) {
				return pubsub.Poison(err)
			}
			return err
		},
	}))
}

// committed reads the commit time from an event id: the id is the outbox
// row's UUIDv7, which carries the time the upload committed.
func committed(id string) time.Time {
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 {
		return time.Time{}
	}
	sec, nsec := u.Time().UnixTime()
	return time.Unix(sec, nsec)
}
