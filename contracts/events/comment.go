package events

import (
	"errors"
	"time"

	"pixshare/platform/pubsub"
)

// Event types.
const (
	TypeCommentCreated = "comment.created"
	TypeCommentDeleted = "comment.deleted"
)

// CommentCreated tells the post service to count a comment.
type CommentCreated struct {
	CommentID string    `json:"comment_id"`
	PostID    string    `json:"post_id"`
	AuthorID  string    `json:"author_id"`
	CreatedAt time.Time `json:"created_at"`
}

// CommentDeleted tells the post service to stop counting a comment.
type CommentDeleted struct {
	CommentID string `json:"comment_id"`
	PostID    string `json:"post_id"`
	AuthorID  string `json:"author_id"`
}

func parse(data []byte, e any, ok func() bool, what string) error {
	if err := pubsub.Decode(data, e); err != nil {
		return err
	}
	if !ok() {
		return pubsub.Poison(errors.New(what + " lacks comment_id or post_id"))
	}
	return nil
}

// ParseCommentCreated decodes comment.created; anything unusable is a
// poison error for the consumer to dead-letter.
func ParseCommentCreated(data []byte) (CommentCreated, error) {
	var e CommentCreated
	err := parse(data, &e, func() bool { return e.CommentID != "" && e.PostID != "" }, TypeCommentCreated)
	return e, err
}

// ParseCommentDeleted decodes comment.deleted.
func ParseCommentDeleted(data []byte) (CommentDeleted, error) {
	var e CommentDeleted
	err := parse(data, &e, func() bool { return e.CommentID != "" && e.PostID != "" }, TypeCommentDeleted)
	return e, err
}
