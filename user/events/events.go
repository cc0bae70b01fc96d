// Package events holds the events the user service publishes, for the
// services that consume them.
package events

import "time"

// TypeUserDeleted is published on the domain-events topic when an account
// is deleted. Consumers remove what belongs to the user.
const TypeUserDeleted = "user.deleted"

// UserDeleted is the payload of TypeUserDeleted.
type UserDeleted struct {
	UserID    string    `json:"user_id"`
	DeletedAt time.Time `json:"deleted_at"`
}
