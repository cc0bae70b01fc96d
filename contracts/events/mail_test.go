package events

import (
	"strings"
	"testing"

	"pixshare/platform/pubsub"
)

func TestParseSendEmail(t *testing.T) {
	ok := `{"template":"welcome","to":"ann@example.com","user_id":"u1","username":"ann"}`
	if e, err := ParseSendEmail([]byte(ok)); err != nil || e.To != "ann@example.com" || e.Username != "ann" {
		t.Fatalf("ParseSendEmail(%s) = %+v, %v", ok, e, err)
	}
	for _, bad := range []string{
		`{"template":"other","to":"ann@example.com","user_id":"u1","username":"ann"}`,
		`{"template":"welcome","to":"ann@example.com","user_id":"u1"}`,
		`{"template":"welcome","to":"ann","user_id":"u1","username":"ann"}`,
		`{"template":"welcome","to":"ann@example.com\r\nBcc: eve@example.com","user_id":"u1","username":"ann"}`,
		`{"template":"welcome","to":"ann@example.com,eve@example.com","user_id":"u1","username":"ann"}`,
		`not json`,
	} {
		if _, err := ParseSendEmail([]byte(bad)); !pubsub.IsPoison(err) {
			t.Errorf("ParseSendEmail(%s): want poison, got %v", bad, err)
		}
	}
}

func FuzzParseSendEmail(f *testing.F) {
	for _, s := range []string{`{"template":"welcome","to":"ann@example.com","user_id":"u1","username":"ann"}`,
		`{}`, `null`, `[]`, `{"to":5}`, `{"template":"welcome","to":"a@b\nc","user_id":"u","username":"u"}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseSendEmail(data)
		if err != nil {
			if !pubsub.IsPoison(err) {
				t.Fatalf("a bad payload must be poison, got %v", err)
			}
			return
		}
		if e.Template != MailWelcome || e.UserID == "" || e.Username == "" || !strings.Contains(e.To, "@") ||
			strings.ContainsAny(e.To, "\r\n,") || strings.ContainsAny(e.Username, "\r\n") {
			t.Fatalf("accepted %+v", e)
		}
	})
}
