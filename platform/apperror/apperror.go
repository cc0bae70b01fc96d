// Package apperror is the one error vocabulary of every Pixshare service.
//
// Domain and application code return errors that carry a Kind (what went
// wrong from the caller's point of view), never an HTTP status or a gRPC
// code. The transports map kinds in exactly one place: HTTPStatus and
// GRPCCode below, and FromGRPC for the way back, so a NotFound raised in the
// user service reaches a REST client of the post service as a 404.
package apperror

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error for the caller.
type Kind int

// The kinds, ordered roughly by how often clients see them.
const (
	// Internal is a fault of ours: nothing the caller can fix.
	Internal Kind = iota
	// Invalid input: malformed JSON, a bad query parameter, a bad cursor.
	Invalid
	// Unprocessable input: well-formed but breaking a domain rule.
	Unprocessable
	// NotFound also stands for "exists, but you may not know it does".
	NotFound
	// Conflict with the current state, such as a taken username.
	Conflict
	// Unauthenticated: no credentials, or credentials that are not valid.
	Unauthenticated
	// Forbidden: authenticated, but not allowed.
	Forbidden
	// TooLarge: the request body exceeds a limit.
	TooLarge
	// UnsupportedMedia: the content type or format is not accepted.
	UnsupportedMedia
	// RateLimited: too many requests; RetryAfter tells when to come back.
	RateLimited
	// Unavailable: a dependency is down; retrying later may succeed.
	Unavailable
	// MethodNotAllowed: the path exists, the method does not.
	MethodNotAllowed
	// QuotaExceeded: the account has used up an allowance (storage);
	// retrying will not help until it frees some.
	QuotaExceeded
)

var kindNames = map[Kind]string{
	Internal:         "internal",
	Invalid:          "invalid",
	Unprocessable:    "unprocessable",
	NotFound:         "not-found",
	Conflict:         "conflict",
	Unauthenticated:  "unauthenticated",
	Forbidden:        "forbidden",
	TooLarge:         "too-large",
	UnsupportedMedia: "unsupported-media",
	RateLimited:      "rate-limited",
	Unavailable:      "unavailable",
	MethodNotAllowed: "method-not-allowed",
	QuotaExceeded:    "quota-exceeded",
}

// String is the stable slug of the kind, used in problem type URIs.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "internal"
}

// FieldError names one invalid input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an error with a kind and a message that is safe to show to
// clients. The wrapped cause is for logs only.
type Error struct {
	Kind       Kind
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration
	cause      error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Message + ": " + e.cause.Error()
	}
	return e.Message
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.cause }

// New returns an error of the given kind with a client-safe message.
func New(kind Kind, message string) *Error {
	return &Error{Kind: kind, Message: message}
}

// Newf is New with formatting.
func Newf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a kind and a client-safe message to cause.
func Wrap(kind Kind, cause error, message string) *Error {
	return &Error{Kind: kind, Message: message, cause: cause}
}

// WithFields adds field-level details (validation failures).
func (e *Error) WithFields(fields ...FieldError) *Error {
	e.Fields = append(e.Fields, fields...)
	return e
}

// WithRetryAfter tells the client when a retry may succeed.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	e.RetryAfter = d
	return e
}

// As finds the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// KindOf returns the kind of err; errors without one are Internal.
func KindOf(err error) Kind {
	if e, ok := As(err); ok {
		return e.Kind
	}
	return Internal
}

// Is reports whether err carries the given kind.
func Is(err error, kind Kind) bool {
	return err != nil && KindOf(err) == kind
}

// Shorthands for the kinds code raises most.

// NotFoundf returns a NotFound error.
func NotFoundf(format string, args ...any) *Error { return Newf(NotFound, format, args...) }

// Invalidf returns an Invalid error.
func Invalidf(format string, args ...any) *Error { return Newf(Invalid, format, args...) }

// Unprocessablef returns an Unprocessable error.
func Unprocessablef(format string, args ...any) *Error { return Newf(Unprocessable, format, args...) }

// Forbiddenf returns a Forbidden error.
func Forbiddenf(format string, args ...any) *Error { return Newf(Forbidden, format, args...) }

// Conflictf returns a Conflict error.
func Conflictf(format string, args ...any) *Error { return Newf(Conflict, format, args...) }

// Unauthenticatedf returns an Unauthenticated error.
func Unauthenticatedf(format string, args ...any) *Error {
	return Newf(Unauthenticated, format, args...)
}
