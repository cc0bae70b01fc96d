// Package adapters implements the user service's ports: GORM storage,
// argon2id password hashing, JWT tokens with a key from the Dapr secret
// store.
package adapters

import (
	"time"

	"gorm.io/gorm"

	"pixshare/user/internal/domain"
)

// userRow is the users table. Uniqueness of username and email holds among
// live rows only (partial indexes), so a deleted account frees both.
type userRow struct {
	ID             string `gorm:"primaryKey;size:36"`
	Username       string `gorm:"size:30;not null;uniqueIndex:ux_users_username_live,where:deleted_at IS NULL"`
	Email          string `gorm:"size:254;not null;uniqueIndex:ux_users_email_live,where:deleted_at IS NULL"`
	PasswordHash   string `gorm:"size:200;not null"`
	DisplayName    string `gorm:"size:200;not null;default:''"`
	Bio            string `gorm:"size:2000;not null;default:''"`
	Status         string `gorm:"size:16;not null;default:active"`
	TokenVersion   int    `gorm:"not null;default:0"`
	FollowerCount  int64  `gorm:"not null;default:0"`
	FollowingCount int64  `gorm:"not null;default:0"`
	AvatarVersion  int64  `gorm:"not null;default:0"`
	AvatarPending  int64  `gorm:"not null;default:0"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeletedAt      gorm.DeletedAt `gorm:"index"`
}

func (userRow) TableName() string { return "users" }

// followRow is one "follower follows followee". Unfollowing soft-deletes
// the row; at most one live row per pair.
type followRow struct {
	ID         string `gorm:"primaryKey;size:36"`
	FollowerID string `gorm:"size:36;not null;uniqueIndex:ux_follows_live,priority:1,where:deleted_at IS NULL;index:ix_follows_follower,priority:1"`
	FolloweeID string `gorm:"size:36;not null;uniqueIndex:ux_follows_live,priority:2;index:ix_follows_followee,priority:1"`
	CreatedAt  time.Time
	DeletedAt  gorm.DeletedAt `gorm:"index"`
}

func (followRow) TableName() string { return "follows" }

// blockRow is one "blocker blocks blocked".
type blockRow struct {
	ID        string `gorm:"primaryKey;size:36"`
	BlockerID string `gorm:"size:36;not null;uniqueIndex:ux_blocks_live,priority:1,where:deleted_at IS NULL"`
	BlockedID string `gorm:"size:36;not null;uniqueIndex:ux_blocks_live,priority:2;index:ix_blocks_blocked"`
	CreatedAt time.Time
	DeletedAt gorm.DeletedAt `gorm:"index"`
}

func (blockRow) TableName() string { return "blocks" }

func (r userRow) toDomain() domain.User {
	return domain.User{
		ID: r.ID, Username: r.Username, Email: r.Email, PasswordHash: r.PasswordHash,
		DisplayName: r.DisplayName, Bio: r.Bio, Status: domain.Status(r.Status), TokenVersion: r.TokenVersion,
		FollowerCount: r.FollowerCount, FollowingCount: r.FollowingCount, AvatarVersion: r.AvatarVersion,
		AvatarPending: r.AvatarPending, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func fromDomain(u domain.User) userRow {
	return userRow{
		ID: u.ID, Username: u.Username, Email: u.Email, PasswordHash: u.PasswordHash,
		DisplayName: u.DisplayName, Bio: u.Bio, Status: string(u.Status), TokenVersion: u.TokenVersion,
		FollowerCount: u.FollowerCount, FollowingCount: u.FollowingCount, AvatarVersion: u.AvatarVersion,
		AvatarPending: u.AvatarPending, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}
