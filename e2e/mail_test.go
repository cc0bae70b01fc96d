package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"pixshare/contracts/events"
	"pixshare/platform/apitest"
	"pixshare/platform/database"
)

// mail is a message as Mailpit's API lists it.
type mail struct {
	ID      string `json:"ID"`
	Subject string `json:"Subject"`
	To      []struct {
		Address string `json:"Address"`
	} `json:"To"`
}

// mailsTo lists the mails Mailpit holds for address.
func (s *Stack) mailsTo(t *testing.T, address string) []mail {
	t.Helper()
	resp, err := http.Get(s.Mailpit + "/api/v1/search?query=" + url.QueryEscape("to:"+address))
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit search: %s", resp.Status)
	}
	var page struct {
		Messages []mail `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatalf("mailpit search: %v", err)
	}
	var out []mail
	for _, m := range page.Messages {
		for _, to := range m.To {
			if strings.EqualFold(to.Address, address) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// waitWelcomeMail waits for the welcome mail of username (registered with
// apitest's address) and returns it.
func (s *Stack) waitWelcomeMail(t *testing.T, username string) mail {
	t.Helper()
	var got []mail
	apitest.Eventually(t, 2*time.Minute, "the welcome mail of "+username+" in Mailpit", func() bool {
		got = s.mailsTo(t, username+"@example.com")
		return len(got) > 0
	})
	if len(got) != 1 || !strings.Contains(got[0].Subject, "Welcome") || !strings.Contains(got[0].Subject, username) {
		t.Fatalf("mails to %s: %+v, want one welcome mail", username, got)
	}
	return got[0]
}

// TestWelcomeMail: registering sends one welcome mail, through the outbox,
// the mailer and the SMTP binding, to Mailpit; when the event is published
// again with the same id (as after a relay crash between publish and
// marking), the mailer finds its delivery record and sends nothing more.
func TestWelcomeMail(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e skipped in -short mode")
	}
	s := Start(t, Options{})
	if s.Mailpit == "" {
		t.Skip("no bin/mailpit: build it with tools/mailpit/ensure.sh (make test does)")
	}
	c := apitest.New(t, s.Gateway)
	c.Register("wendy")
	s.waitWelcomeMail(t, "wendy")

	// Redeliver: mark the user service's outbox row unpublished, so its
	// relay publishes the same event (same CloudEvent id) again.
	db, err := database.Open(context.Background(), database.Config{URL: "sqlite://" + s.Root + "/.data/user.db",
		MaxOpenConns: 1, SlowQuery: time.Second}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	var id string
	if err := db.Raw("SELECT id FROM outbox_messages WHERE type = ? AND payload LIKE ?", events.TypeSendEmail, "%wendy@example.com%").
		Scan(&id).Error; err != nil || id == "" {
		t.Fatalf("the welcome mail's outbox row: %q, %v", id, err)
	}
	if err := db.Exec("UPDATE outbox_messages SET published_at = NULL WHERE id = ?", id).Error; err != nil {
		t.Fatal(err)
	}
	apitest.Eventually(t, 2*time.Minute, "the mailer to see the event again", func() bool {
		for _, line := range strings.Split(s.Output(), "\n") {
			if strings.Contains(line, "already handled") && strings.Contains(line, id) {
				return true
			}
		}
		return false
	})
	if got := s.mailsTo(t, "wendy@example.com"); len(got) != 1 {
		t.Fatalf("%d mails to wendy after the event was delivered twice, want 1", len(got))
	}
}
