package events

import (
	"testing"

	"pixshare/platform/pubsub"
)

func fuzz(f *testing.F, parse func([]byte) (string, string, error)) {
	for _, s := range []string{`{"comment_id":"c","post_id":"p","author_id":"a"}`, `{}`, `null`, ``, `{"comment_id":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		comment, post, err := parse(data)
		if err != nil {
			if !pubsub.IsPoison(err) {
				t.Fatalf("a bad payload must be poison, got %v", err)
			}
			return
		}
		if comment == "" || post == "" {
			t.Fatal("accepted without ids")
		}
	})
}

func FuzzParseCommentCreated(f *testing.F) {
	fuzz(f, func(b []byte) (string, string, error) {
		e, err := ParseCommentCreated(b)
		return e.CommentID, e.PostID, err
	})
}

func FuzzParseCommentDeleted(f *testing.F) {
	fuzz(f, func(b []byte) (string, string, error) {
		e, err := ParseCommentDeleted(b)
		return e.CommentID, e.PostID, err
	})
}
