// Package ports consumes the mail topic for the mailer.
package ports

import (
	"context"

	"pixshare/contracts/events"
	"pixshare/platform/pubsub"
	"pixshare/workers/internal/mailer/app"
)

// Subscribe routes mail requests to the mailer (its one subscription).
// Requests that can never be sent, and those that failed too often, go to
// the dead-letter topic.
func Subscribe(sub *pubsub.Subscriber, m *app.Mailer) error {
	return sub.Subscribe(events.TopicMail, map[string]pubsub.Handler{
		events.TypeSendEmail: func(ctx context.Context, ev pubsub.Event) error {
			e, err := events.ParseSendEmail(ev.Data)
			if err != nil {
				return err
			}
			return m.Deliver(ctx, ev.ID, e)
		},
	})
}
