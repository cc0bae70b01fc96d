// Package app holds the user service's use cases. It talks to storage,
// password hashing and tokens through the small interfaces below, which
// adapters implement.
package app

import (
	"context"
	"time"

	"pixshare/user/internal/domain"
)

// Repository stores users and their relationships.
type Repository interface {
	// Create stores a new user; a live user with the same username or
	// email is a Conflict.
	Create(ctx context.Context, u *domain.User) error
	// ByID returns a live user, or domain.ErrNoUser.
	ByID(ctx context.Context, id string) (domain.User, error)
	// ByIDIncludingDeleted also returns deleted users (found=false when
	// no user ever had the id).
	ByIDIncludingDeleted(ctx context.Context, id string) (u domain.User, found bool, err error)
	// ByUsername returns the live user with this (normalised) username.
	ByUsername(ctx context.Context, username string) (domain.User, error)
	// ByIDs returns the live users among ids, in no particular order.
	ByIDs(ctx context.Context, ids []string) ([]domain.User, error)
	// SearchUsers pages users whose username or display name starts with
	// prefix (lower case), best matches first, leaving out users in a
	// block relationship with viewer; after is a hit's Cursor.
	SearchUsers(ctx context.Context, prefix, viewer, after string, limit int) ([]domain.UserHit, error)
	// Relationship says how viewer stands to id.
	Relationship(ctx context.Context, viewer, id string) (domain.Relationship, error)
	// Blocks pages whom userID blocks, newest first.
	Blocks(ctx context.Context, userID, cursor string, limit int) ([]domain.Relation, error)
	// NewAvatar makes version the user's pending avatar and enqueues its
	// request to the thumbnailer, in one transaction.
	NewAvatar(ctx context.Context, id string, version int64) error
	// SetAvatar serves version if it is the pending one (reporting whether
	// it was); 0 removes the avatar.
	SetAvatar(ctx context.Context, id string, version int64) (bool, error)
	// DropPendingAvatar forgets version if it is the pending avatar.
	DropPendingAvatar(ctx context.Context, id string, version int64) error
	// ByLogin returns the live user with this username or email.
	ByLogin(ctx context.Context, login string) (domain.User, error)
	// UpdateProfile applies change to a live user in a transaction.
	UpdateProfile(ctx context.Context, id string, change func(*domain.User) error) (domain.User, error)
	// SetStatus makes a live user active or suspended.
	SetStatus(ctx context.Context, id string, status domain.Status) error
	// BumpTokenVersion revokes every token issued to the user so far.
	BumpTokenVersion(ctx context.Context, id string) error
	// Delete soft-deletes the user, removes their follows and blocks
	// (keeping every counter right) and records user.deleted in the
	// outbox, all in one transaction. It returns the ids of users whose
	// counters changed.
	Delete(ctx context.Context, id string) (affected []string, err error)

	// Follow, Unfollow, Block and Unblock are idempotent and update the
	// counters in the same transaction as the relationship rows. Block
	// also removes follows both ways.
	Follow(ctx context.Context, follower, followee string) error
	Unfollow(ctx context.Context, follower, followee string) error
	Block(ctx context.Context, blocker, blocked string) error
	Unblock(ctx context.Context, blocker, blocked string) error

	// Followers and Following page through a user's lists, newest first,
	// leaving out users in a block relationship with viewer.
	Followers(ctx context.Context, userID, viewer, cursor string, limit int) ([]domain.Relation, error)
	Following(ctx context.Context, userID, viewer, cursor string, limit int) ([]domain.Relation, error)

	// FollowingIDs pages through ids of users userID follows, by id.
	FollowingIDs(ctx context.Context, userID, after string, limit int) ([]string, error)
	// BlockedIDs returns ids that userID blocks or is blocked by.
	BlockedIDs(ctx context.Context, userID string) ([]string, error)
	// IsBlocked reports whether either user blocks the other.
	IsBlocked(ctx context.Context, a, b string) (bool, error)
}

// Images stores avatar pictures (the images binding).
type Images interface {
	Put(ctx context.Context, key string, data []byte) error
	Get(ctx context.Context, key string) ([]byte, error)
	Delete(ctx context.Context, key string) error
}

// PasswordHasher hashes and verifies passwords.
type PasswordHasher interface {
	Hash(password string) (string, error)
	Verify(password, hash string) (bool, error)
}

// Claims are what a verified token says.
type Claims struct {
	UserID       string
	TokenVersion int
	ExpiresAt    time.Time
}

// Tokens issues and verifies access tokens.
type Tokens interface {
	Issue(u domain.User) (token string, expiresIn time.Duration, err error)
	// Verify checks signature, algorithm, expiry, issuer and audience.
	Verify(token string) (Claims, error)
}
