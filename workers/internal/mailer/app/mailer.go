// Package app is the mailer's use case: send each requested mail once,
// however often its event is delivered.
//
// Every event id gets a delivery record in the mailer's own database. A
// delivery claims the record with a lease before sending and marks it sent
// after; a redelivered event whose record is sent is acknowledged without
// sending, one whose lease is still held (another instance is sending it)
// is retried later. The one window left is a crash between the SMTP server
// accepting the mail and the record being marked: the lease then expires
// and the mail is sent again. Exactly once would need the SMTP server to
// deduplicate; this is at most once per lease.
package app

import (
	"context"
	"errors"
	"fmt"
	"html"
	"time"

	"go.uber.org/zap"

	"pixshare/contracts/events"
	"pixshare/platform/logging"
	"pixshare/platform/pubsub"
)

// Mail is one message for the Sender.
type Mail struct {
	To      string
	Subject string
	// HTML is the body (the Dapr SMTP binding sends text/html).
	HTML string
}

// Sender hands a mail to the SMTP server.
type Sender interface {
	Send(ctx context.Context, m Mail) error
}

// Claim is what Store.Claim found.
type Claim int

const (
	// Claimed: the caller holds the lease and sends; Attempt says which
	// attempt this is (1 for the first).
	Claimed Claim = iota + 1
	// AlreadySent: the mail went out before; nothing to do.
	AlreadySent
	// Busy: another delivery holds an unexpired lease.
	Busy
	// GaveUp: the delivery was dead-lettered before; nothing to do.
	GaveUp
)

// Store keeps the delivery records.
type Store interface {
	// Claim takes the lease on id's record (creating it) until now+lease
	// unless it is sent, given up or leased to someone else, and counts
	// the attempt.
	Claim(ctx context.Context, id, to string, now time.Time, lease time.Duration) (Claim, int, error)
	// MarkSent records that id's mail went out.
	MarkSent(ctx context.Context, id string, at time.Time) error
	// Release gives the lease back after a failed attempt, keeping why.
	Release(ctx context.Context, id string, reason string) error
	// GiveUp records that id's mail will never be sent.
	GiveUp(ctx context.Context, id string, reason string, at time.Time) error
}

// Mailer sends requested mails.
type Mailer struct {
	store       Store
	sender      Sender
	lease       time.Duration
	maxAttempts int
	now         func() time.Time
	logger      *zap.Logger
}

// New returns a Mailer. A claim's lease must outlast one send (the
// binding's timeout); after maxAttempts failed attempts a mail is given up
// and its event dead-lettered.
func New(store Store, sender Sender, lease time.Duration, maxAttempts int, logger *zap.Logger) *Mailer {
	return &Mailer{store: store, sender: sender, lease: lease, maxAttempts: maxAttempts, now: time.Now, logger: logger}
}

// ErrBusy means another delivery of the same event is sending it: retry
// later (the lease ends even if that delivery crashed).
var ErrBusy = errors.New("mail is being sent by another delivery")

// Deliver sends the mail event id asks for unless it was sent already. A
// nil error means done (sent now or before); a poison error means given up
// (dead-letter it); any other error means retry later.
func (m *Mailer) Deliver(ctx context.Context, id string, req events.SendEmail) error {
	log := logging.FromContext(ctx, m.logger)
	claim, attempt, err := m.store.Claim(ctx, id, req.To, m.now(), m.lease)
	if err != nil {
		return fmt.Errorf("claim mail %s: %w", id, err)
	}
	switch claim {
	case AlreadySent, GaveUp:
		// The delivery's logger names the event (platform/pubsub).
		log.Info("mail event delivered again; already handled")
		return nil
	case Busy:
		return ErrBusy
	}
	if attempt > m.maxAttempts {
		reason := fmt.Sprintf("mail not sent after %d attempts", m.maxAttempts)
		if err := m.store.GiveUp(ctx, id, reason, m.now()); err != nil {
			return fmt.Errorf("give up mail %s: %w", id, err)
		}
		return pubsub.Poison(errors.New(reason))
	}
	if err := m.sender.Send(ctx, Render(req)); err != nil {
		// A fresh context: the delivery's may be what ended.
		if relErr := m.store.Release(context.WithoutCancel(ctx), id, err.Error()); relErr != nil {
			log.Warn("could not release a mail's lease; it expires on its own", zap.Error(relErr))
		}
		return fmt.Errorf("send mail %s (attempt %d of %d): %w", id, attempt, m.maxAttempts, err)
	}
	if err := m.store.MarkSent(context.WithoutCancel(ctx), id, m.now()); err != nil {
		// The mail is out; the record still says leased. Retrying would
		// find the lease held, then expired, and send again: log loudly.
		log.Error("mail sent but not recorded; a redelivery after the lease may send it again", zap.Error(err))
		return fmt.Errorf("record mail %s sent: %w", id, err)
	}
	log.Info("mail sent", zap.String("template", req.Template), zap.Int("attempt", attempt))
	return nil
}

// Render makes the mail of a request. Only known templates reach here
// (events.ParseSendEmail refuses others).
func Render(req events.SendEmail) Mail {
	name := html.EscapeString(req.Username)
	return Mail{
		To:      req.To,
		Subject: "Welcome to Pixshare, " + req.Username,
		HTML: "<p>Hello " + name + ",</p>\n" +
			"<p>welcome to Pixshare! Your account <b>@" + name + "</b> is ready: " +
			"post your first picture, follow people and see their pictures in your feed.</p>\n" +
			"<p>If you did not create this account, you can ignore this mail.</p>\n",
	}
}
