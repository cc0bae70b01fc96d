package events

import (
	"testing"

	"pixshare/platform/pubsub"
)

func FuzzParseUserDeleted(f *testing.F) {
	for _, s := range []string{`{"user_id":"u1","deleted_at":"2026-01-01T00:00:00Z"}`, `{}`, `null`, `[]`, `{"user_id":5}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseUserDeleted(data)
		if err != nil {
			if !pubsub.IsPoison(err) {
				t.Fatalf("a bad payload must be poison, got %v", err)
			}
			return
		}
		if e.UserID == "" {
			t.Fatal("accepted without a user id")
		}
	})
}

func FuzzParseAvatarRequested(f *testing.F) {
	for _, s := range []string{`{"user_id":"u1","version":3,"original_key":"avatars/u1/3/upload"}`, `{}`, `null`, `{"version":"x"}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseAvatarRequested(data)
		if err != nil {
			if !pubsub.IsPoison(err) {
				t.Fatalf("a bad payload must be poison, got %v", err)
			}
			return
		}
		if e.UserID == "" || e.Version < 1 || e.OriginalKey == "" {
			t.Fatalf("accepted %+v", e)
		}
	})
}
