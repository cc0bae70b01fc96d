package domain

import (
	"errors"
	"time"

	"pixshare/platform/apperror"
)

// Errors of the follow and block rules.
var (
	ErrSelfFollow = apperror.New(apperror.Unprocessable, "you cannot follow yourself")
	ErrSelfBlock  = apperror.New(apperror.Unprocessable, "you cannot block yourself")
	ErrBlocked    = apperror.New(apperror.Forbidden, "you cannot follow this user")
	ErrNoUser     = apperror.New(apperror.NotFound, "user not found")
)

// Relation is one row of the follower/following lists.
type Relation struct {
	// Cursor orders the list (the relationship's id, newest first).
	Cursor      string
	UserID      string
	Username    string
	DisplayName string
	Since       time.Time
}

// CheckFollow applies the rules that do not need the database.
func CheckFollow(follower, followee string) error {
	if follower == followee {
		return ErrSelfFollow
	}
	return nil
}

// CheckBlock applies the rules that do not need the database.
func CheckBlock(blocker, blocked string) error {
	if blocker == blocked {
		return ErrSelfBlock
	}
	return nil
}

// IsNotFound reports a missing user.
func IsNotFound(err error) bool { return errors.Is(err, ErrNoUser) }
