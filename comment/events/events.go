// Package events holds what the comment service publishes (on the
// domain-events topic), for the services that consume it.
package events

import "time"

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
