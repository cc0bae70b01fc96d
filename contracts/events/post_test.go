package events

import (
	"testing"

	"pixshare/platform/pubsub"
)

func seeds(f *testing.F, extra ...string) {
	for _, s := range append([]string{`{}`, `null`, `[]`, ``, `{"post_id":1}`, `{"version":"x"}`}, extra...) {
		f.Add([]byte(s))
	}
}

// checkPoison fails unless err is nil or poison.
func checkPoison(t *testing.T, err error) bool {
	t.Helper()
	if err != nil && !pubsub.IsPoison(err) {
		t.Fatalf("a bad payload must be poison, got %v", err)
	}
	return err == nil
}

func FuzzParseThumbnailRequested(f *testing.F) {
	seeds(f, `{"post_id":"p","author_id":"a","version":1,"original_key":"uploads/p"}`,
		`{"post_id":"p","author_id":"a","version":1,"original_key":"uploads/p","original_bytes":4036975}`,
		`{"post_id":"p","author_id":"a","version":1,"original_key":"uploads/p","original_bytes":-1}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseThumbnailRequested(data)
		if checkPoison(t, err) && (e.PostID == "" || e.Version < 1 || e.OriginalKey == "" || e.OriginalBytes < 0) {
			t.Fatalf("accepted %+v", e)
		}
	})
}

func FuzzParseIndexUpsert(f *testing.F) {
	seeds(f, `{"post_id":"p","author_id":"a","caption":"c","tags":["t"],"version":2,"created_at":"2026-01-01T00:00:00Z"}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseIndexUpsert(data)
		if checkPoison(t, err) && (e.PostID == "" || e.AuthorID == "" || e.Version < 1 || e.Tags == nil) {
			t.Fatalf("accepted %+v", e)
		}
	})
}

func FuzzParseIndexRemove(f *testing.F) {
	seeds(f, `{"post_id":"p","version":3}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseIndexRemove(data)
		if checkPoison(t, err) && (e.PostID == "" || e.Version < 1) {
			t.Fatalf("accepted %+v", e)
		}
	})
}

func FuzzParsePostDeleted(f *testing.F) {
	seeds(f, `{"post_id":"p","author_id":"a"}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParsePostDeleted(data)
		if checkPoison(t, err) && e.PostID == "" {
			t.Fatalf("accepted %+v", e)
		}
	})
}
