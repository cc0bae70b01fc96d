package events

import (
	"errors"
	"time"

	"pixshare/platform/pubsub"
)

// TypeUserDeleted is published on the domain-events topic when an account
// is deleted. Consumers remove what belongs to the user.
const TypeUserDeleted = "user.deleted"

// UserDeleted is the payload of TypeUserDeleted.
type UserDeleted struct {
	UserID    string    `json:"user_id"`
	DeletedAt time.Time `json:"deleted_at"`
}

// ParseUserDeleted decodes a user.deleted payload; anything unusable is a
// poison error (platform/events), for the consumer to dead-letter.
func ParseUserDeleted(data []byte) (UserDeleted, error) {
	var e UserDeleted
	if err := pubsub.Decode(data, &e); err != nil {
		return e, err
	}
	if e.UserID == "" {
		return e, pubsub.Poison(errors.New("user.deleted lacks user_id"))
	}
	return e, nil
}

// TypeAvatarRequested asks the thumbnailer (on the thumbnails topic) to make
// every avatar size of a user's new avatar and report to the user service.
const TypeAvatarRequested = "user.avatar.requested"

// AvatarRequested is the payload of TypeAvatarRequested.
type AvatarRequested struct {
	UserID      string `json:"user_id"`
	Version     int64  `json:"version"`
	OriginalKey string `json:"original_key"`
}

// ParseAvatarRequested decodes an avatar request; anything unusable is
// poison.
func ParseAvatarRequested(data []byte) (AvatarRequested, error) {
	var e AvatarRequested
	if err := pubsub.Decode(data, &e); err != nil {
		return e, err
	}
	if e.UserID == "" || e.Version < 1 || e.OriginalKey == "" {
		return e, pubsub.Poison(errors.New("avatar request lacks user_id, version or original_key"))
	}
	if e.Version >= 1<<53 {
		// Not a version the user service makes (they are exact in JSON).
		return e, pubsub.Poison(errors.New("avatar request version out of range"))
	}
	return e, nil
}
