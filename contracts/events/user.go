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
