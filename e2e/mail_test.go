package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"pixshare/contracts/events"
	"pixshare/platform/apitest"
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

	// Deliver the event again: the same message (same CloudEvent id and
	// source) published once more on the broker, as after a relay crash
	// between publish and marking once the broker's duplicate window has
	// passed. (Republishing through the outbox would be dropped by
	// JetStream's de-duplication on the CloudEvent id.)
	id := redeliverLast(t, s, events.TopicMail)
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

// redeliverLast publishes the last message of topic on the stack's
// embedded broker again, byte for byte (only the broker's de-duplication
// id differs), and returns its CloudEvent id.
func redeliverLast(t *testing.T, s *Stack, topic string) string {
	t.Helper()
	m := regexp.MustCompile(`nats=(nats://\S+)`).FindStringSubmatch(s.Output())
	if m == nil {
		t.Fatal("no embedded broker in the ready line")
	}
	nc, err := nats.Connect(m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stream, err := js.Stream(ctx, "pixshare")
	if err != nil {
		t.Fatal(err)
	}
	last, err := stream.GetLastMsgForSubject(ctx, topic)
	if err != nil {
		t.Fatalf("last message on %s: %v", topic, err)
	}
	var ce struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(last.Data, &ce); err != nil || ce.ID == "" {
		t.Fatalf("the message on %s is no CloudEvent: %v", topic, err)
	}
	again := nats.NewMsg(topic)
	again.Data = last.Data
	again.Header = nats.Header{}
	for k, v := range last.Header {
		again.Header[k] = v
	}
	again.Header.Set(nats.MsgIdHdr, ce.ID+"-again")
	if _, err := js.PublishMsg(ctx, again); err != nil {
		t.Fatal(err)
	}
	return ce.ID
}
