// Package outbox is the transactional outbox: a service writes the events
// a change causes into its own database, in the same transaction as the
// change, and a relay publishes them afterwards. A crash between commit and
// publish loses nothing (the row waits); a crash after publish and before
// marking repeats the publish, which consumers tolerate (the CloudEvent id is
// the row id, so they can deduplicate).
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"pixshare/platform/pubsub"
)

// Message is one outbox row.
type Message struct {
	// ID is a UUIDv7: unique, and ordered by creation, so the relay
	// publishes in commit order for one writer.
	ID          string `gorm:"primaryKey;size:36"`
	Topic       string `gorm:"size:100;not null"`
	Type        string `gorm:"size:100;not null"`
	Payload     []byte `gorm:"not null"`
	CreatedAt   time.Time
	PublishedAt *time.Time `gorm:"index"`
	Attempts    int        `gorm:"not null;default:0"`
	LastError   string     `gorm:"size:500"`
}

const tableName = "outbox_messages"

// TableName keeps one name across services.
func (Message) TableName() string { return tableName }

// Migrate creates the outbox table.
func Migrate(db *gorm.DB) error {
	if err := db.AutoMigrate(&Message{}); err != nil {
		return fmt.Errorf("migrate outbox: %w", err)
	}
	return nil
}

// Enqueue adds an event to the outbox inside tx, the caller's transaction.
// It returns the event id.
func Enqueue(tx *gorm.DB, topic, eventType string, payload any) (string, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("encode %s event: %w", eventType, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("outbox id: %w", err)
	}
	msg := Message{ID: id.String(), Topic: topic, Type: eventType, Payload: data}
	if err := tx.Create(&msg).Error; err != nil {
		return "", fmt.Errorf("enqueue %s event: %w", eventType, err)
	}
	return msg.ID, nil
}

// Stats describes the backlog (the fault checker and /readyz details).
type Stats struct {
	Pending      int64
	OldestMillis int64
}

// Pending reports unsent rows and the age of the oldest.
func Pending(ctx context.Context, db *gorm.DB) (Stats, error) {
	var st Stats
	if err := db.WithContext(ctx).Model(&Message{}).Where("published_at IS NULL").Count(&st.Pending).Error; err != nil {
		return st, fmt.Errorf("count pending outbox rows: %w", err)
	}
	if st.Pending == 0 {
		return st, nil
	}
	var oldest Message
	err := db.WithContext(ctx).Where("published_at IS NULL").Order("id").Take(&oldest).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return st, fmt.Errorf("oldest pending outbox row: %w", err)
	}
	if err == nil {
		st.OldestMillis = time.Since(oldest.CreatedAt).Milliseconds()
	}
	return st, nil
}

// asMessage converts a row for publishing.
func (m Message) asMessage() pubsub.Message {
	return pubsub.Message{ID: m.ID, Type: m.Type, Data: m.Payload}
}
