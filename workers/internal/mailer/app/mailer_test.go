package app_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"gorm.io/gorm"

	"pixshare/contracts/events"
	"pixshare/platform/database/dbtest"
	"pixshare/platform/pubsub"
	"pixshare/workers/internal/mailer/adapters"
	"pixshare/workers/internal/mailer/app"
)

// outbox records the mails handed to it, failing while fail is set.
type outbox struct {
	mu   sync.Mutex
	sent []app.Mail
	fail error
}

func (o *outbox) Send(_ context.Context, m app.Mail) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return o.fail
	}
	o.sent = append(o.sent, m)
	return nil
}

func (o *outbox) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.sent)
}

func newMailer(t *testing.T, db *gorm.DB, o *outbox, maxAttempts int) *app.Mailer {
	t.Helper()
	if err := adapters.Migrate(db); err != nil {
		t.Fatal(err)
	}
	return app.New(adapters.NewStore(db), o, time.Minute, maxAttempts, zap.NewNop())
}

var welcome = events.SendEmail{Template: events.MailWelcome, To: "ann@example.com", UserID: "u1", Username: "ann"}

// TestDeliverSendsOncePerEvent: redeliveries of one event, one after the
// other and all at once, send one mail; another event sends another.
func TestDeliverSendsOncePerEvent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		o := &outbox{}
		m := newMailer(t, db, o, 5)
		for range 3 {
			if err := m.Deliver(ctx, "ev-1", welcome); err != nil {
				t.Fatal(err)
			}
		}
		if o.count() != 1 {
			t.Fatalf("%d mails for one event delivered 3 times, want 1", o.count())
		}
		if got := o.sent[0]; got.To != "ann@example.com" || !strings.Contains(got.Subject, "ann") || !strings.Contains(got.HTML, "@ann") {
			t.Fatalf("mail %+v", got)
		}

		// Concurrent deliveries of a new event: one sends, the others
		// find it sent or busy (and would be retried), none sends twice.
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- m.Deliver(ctx, "ev-2", welcome)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil && !errors.Is(err, app.ErrBusy) {
				t.Fatalf("concurrent delivery: %v", err)
			}
		}
		if err := m.Deliver(ctx, "ev-2", welcome); err != nil {
			t.Fatal(err)
		}
		if o.count() != 2 {
			t.Fatalf("%d mails for two events, want 2", o.count())
		}
	})
}

// TestDeliverRetriesThenGivesUp: a failing send is retried (the lease is
// given back), then after the last attempt the event is poison and never
// sent, even if delivered again.
func TestDeliverRetriesThenGivesUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		o := &outbox{fail: errors.New("connection refused")}
		m := newMailer(t, db, o, 3)
		for i := 1; i <= 3; i++ {
			err := m.Deliver(ctx, "ev-1", welcome)
			if err == nil || pubsub.IsPoison(err) || errors.Is(err, app.ErrBusy) {
				t.Fatalf("attempt %d: want a retryable error, got %v", i, err)
			}
		}
		if err := m.Deliver(ctx, "ev-1", welcome); !pubsub.IsPoison(err) {
			t.Fatalf("after 3 failed attempts: want poison, got %v", err)
		}
		o.fail = nil
		if err := m.Deliver(ctx, "ev-1", welcome); err != nil {
			t.Fatalf("a given-up mail delivered again: %v", err)
		}
		if o.count() != 0 {
			t.Fatalf("a given-up mail was sent")
		}

		// A failure then a success sends once.
		o.fail = errors.New("421 try later")
		if err := m.Deliver(ctx, "ev-2", welcome); err == nil {
			t.Fatal("want an error while the server refuses")
		}
		o.fail = nil
		if err := m.Deliver(ctx, "ev-2", welcome); err != nil {
			t.Fatal(err)
		}
		if o.count() != 1 {
			t.Fatalf("%d mails, want 1", o.count())
		}
	})
}

// TestClaimLease: a held lease makes other deliveries wait; an expired one
// (its holder crashed) is taken over.
func TestClaimLease(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		if err := adapters.Migrate(db); err != nil {
			t.Fatal(err)
		}
		s := adapters.NewStore(db)
		now := time.Now()
		if c, n, err := s.Claim(ctx, "ev", "a@b.c", now, time.Minute); err != nil || c != app.Claimed || n != 1 {
			t.Fatalf("first claim = %v, %d, %v", c, n, err)
		}
		if c, _, err := s.Claim(ctx, "ev", "a@b.c", now.Add(30*time.Second), time.Minute); err != nil || c != app.Busy {
			t.Fatalf("claim under the lease = %v, %v; want Busy", c, err)
		}
		if c, n, err := s.Claim(ctx, "ev", "a@b.c", now.Add(2*time.Minute), time.Minute); err != nil || c != app.Claimed || n != 2 {
			t.Fatalf("claim after the lease = %v, %d, %v; want Claimed, attempt 2", c, n, err)
		}
		if err := s.MarkSent(ctx, "ev", now); err != nil {
			t.Fatal(err)
		}
		if c, _, err := s.Claim(ctx, "ev", "a@b.c", now.Add(time.Hour), time.Minute); err != nil || c != app.AlreadySent {
			t.Fatalf("claim after sent = %v, %v; want AlreadySent", c, err)
		}
	})
}
