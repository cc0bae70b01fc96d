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
	// ByLogin returns the live user with this username or email.
	ByLogin(ctx context.Context, login string) (domain.User, error)
	// UpdateProfile applies change to a live user in a transaction.
	UpdateProfile(ctx context.Context, id string, change func(*domain.User) error) (domain.User, error)
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
