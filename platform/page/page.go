// Package page holds the list conventions of the REST contract: limit
// (default 20, at most 100), offset, and opaque cursors.
package page

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"pixshare/platform/apperror"
)

// Limits of every list.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// List is the body of a cursor-paged list.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// ParseLimit reads ?limit=: absent means DefaultLimit, above MaxLimit is
// clamped, anything but a positive integer is a 400.
func ParseLimit(r *http.Request) (int, error) {
	raw := r.URL.Query().Get("limit")
	if raw == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		return 0, apperror.Invalidf("limit must be a positive integer").
			WithFields(apperror.FieldError{Field: "limit", Message: "must be a positive integer"})
	}
	return min(n, MaxLimit), nil
}

// ParseOffset reads ?offset=: absent means 0; negative or not a number is a
// 400.
func ParseOffset(r *http.Request) (int, error) {
	raw := r.URL.Query().Get("offset")
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 || n > 1_000_000 {
		return 0, apperror.Invalidf("offset must be an integer between 0 and 1000000").
			WithFields(apperror.FieldError{Field: "offset", Message: "must be a non-negative integer"})
	}
	return n, nil
}

// cursorVersion lets the format change without misreading old cursors.
const cursorVersion = "1"

// EncodeCursor makes an opaque cursor of the key parts of the last item.
func EncodeCursor(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorVersion + "\x00" + strings.Join(parts, "\x00")))
}

// DecodeCursor reads a cursor made by EncodeCursor with n parts. An empty
// cursor means the first page (nil, nil). Anything else that does not decode
// is a 400.
func DecodeCursor(cursor string, n int) ([]string, error) {
	if cursor == "" {
		return nil, nil
	}
	bad := apperror.Invalidf("cursor is not valid; use next_cursor from a previous page").
		WithFields(apperror.FieldError{Field: "cursor", Message: "malformed"})
	// The decoder skips line breaks even in strict mode, so a cursor with
	// one would name the same page as another string: refuse it.
	if len(cursor) > 512 || strings.ContainsAny(cursor, "\r\n") {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != n+1 || parts[0] != cursorVersion {
		return nil, bad
	}
	for _, p := range parts[1:] {
		if p == "" {
			return nil, bad
		}
	}
	return parts[1:], nil
}

// Parse reads ?limit= and a one-part ?cursor= (the key of the last item of
// the previous page, "" for the first).
func Parse(r *http.Request) (limit int, after string, err error) {
	if limit, err = ParseLimit(r); err != nil {
		return 0, "", err
	}
	parts, err := DecodeCursor(r.URL.Query().Get("cursor"), 1)
	if err != nil {
		return 0, "", err
	}
	if parts != nil {
		after = parts[0]
	}
	return limit, after, nil
}

// Make renders a page from items fetched with limit+1: an extra item only
// tells that a next page exists, and its cursor is the key of the last item
// shown.
func Make[T, U any](items []T, limit int, key func(T) string, render func(T) U) List[U] {
	out := List[U]{Items: make([]U, 0, min(len(items), limit))}
	if len(items) > limit {
		items = items[:limit]
		out.NextCursor = EncodeCursor(key(items[len(items)-1]))
	}
	for _, it := range items {
		out.Items = append(out.Items, render(it))
	}
	return out
}
