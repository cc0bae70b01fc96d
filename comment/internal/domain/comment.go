// Package domain holds the comment service's types and rules.
package domain

import (
	"strings"
	"time"
	"unicode/utf8"

	"pixshare/platform/apperror"
)

// Comment is one comment on a post.
type Comment struct {
	ID        string
	PostID    string
	AuthorID  string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// BodyMax is the longest body, in characters.
const BodyMax = 2200

// CheckBody trims a body and enforces 1 to 2,200 characters.
func CheckBody(body string) (string, error) {
	if !utf8.ValidString(body) || strings.ContainsRune(body, 0) {
		return "", unprocessable("body must be valid UTF-8 text")
	}
	body = strings.TrimSpace(body)
	if n := utf8.RuneCountInString(body); n < 1 || n > BodyMax {
		return "", unprocessable("body must be 1 to 2200 characters (after trimming)")
	}
	return body, nil
}

func unprocessable(msg string) error {
	return apperror.New(apperror.Unprocessable, msg).WithFields(apperror.FieldError{Field: "body", Message: msg})
}

// Errors of the comment rules.
var (
	ErrNoComment    = apperror.New(apperror.NotFound, "comment not found")
	ErrNotAuthor    = apperror.New(apperror.Forbidden, "only the comment's author may edit it")
	ErrCannotDelete = apperror.New(apperror.Forbidden, "only the comment's author or the post's author may delete it")
)

// CanEdit reports whether actor may edit c.
func CanEdit(c Comment, actor string) error {
	if c.AuthorID != actor {
		return ErrNotAuthor
	}
	return nil
}

// CanDelete reports whether actor may delete c on a post by postAuthor.
func CanDelete(c Comment, actor, postAuthor string) error {
	if c.AuthorID != actor && postAuthor != actor {
		return ErrCannotDelete
	}
	return nil
}
