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
	ErrBadCursor  = apperror.Invalidf("cursor is not one this list gave")
)

// Relation is one row of the follower/following lists.
type Relation struct {
	// Cursor orders the list (the relationship's id, newest first).
	Cursor        string
	UserID        string
	Username      string
	DisplayName   string
	AvatarVersion int64
	Since         time.Time
}

// AvatarURL is the user's avatar, "" without one.
func (r Relation) AvatarURL() string {
	return User{ID: r.UserID, AvatarVersion: r.AvatarVersion}.AvatarURL()
}

// UserHit is one user found by a people search, with its place in the
// ranking (the list's cursor).
type UserHit struct {
	User
	Cursor string
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
