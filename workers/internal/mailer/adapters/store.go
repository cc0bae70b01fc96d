// Package adapters connects the mailer to its database and to the Dapr SMTP
// binding.
package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"pixshare/platform/database"
	"pixshare/workers/internal/mailer/app"
)

// delivery is one mail's record, keyed by the event id.
type delivery struct {
	EventID   string `gorm:"primaryKey;size:64"`
	Recipient string `gorm:"size:254;not null"`
	Attempts  int    `gorm:"not null;default:0"`
	// LeaseUntil: a delivery is sending the mail until then.
	LeaseUntil *time.Time
	SentAt     *time.Time
	GaveUpAt   *time.Time
	LastError  string `gorm:"size:500"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (delivery) TableName() string { return "mail_deliveries" }

// Migrate creates the mailer's tables.
func Migrate(db *gorm.DB) error {
	if err := db.AutoMigrate(&delivery{}); err != nil {
		return fmt.Errorf("migrate mail deliveries: %w", err)
	}
	return nil
}

// Store keeps delivery records with GORM (SQLite or PostgreSQL).
type Store struct{ db *gorm.DB }

// NewStore returns a Store on db.
func NewStore(db *gorm.DB) *Store { return &Store{db: db} }

var _ app.Store = (*Store)(nil)

// Claim implements app.Store. The read and the write are one transaction
// holding the row (PostgreSQL) or the database (SQLite), so two deliveries
// of one event cannot both claim it.
func (s *Store) Claim(ctx context.Context, id, to string, now time.Time, lease time.Duration) (app.Claim, int, error) {
	var claim app.Claim
	var attempt int
	until := now.Add(lease)
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		var d delivery
		err := tx.Clauses(database.ForUpdate(tx)...).Where("event_id = ?", id).Take(&d).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			// Two first deliveries at once: the primary key lets one
			// insert; the other's transaction fails and is retried as
			// Busy by the caller.
			claim, attempt = app.Claimed, 1
			return tx.Create(&delivery{EventID: id, Recipient: to, Attempts: 1, LeaseUntil: &until}).Error
		}
		if err != nil {
			return err
		}
		switch {
		case d.SentAt != nil:
			claim = app.AlreadySent
			return nil
		case d.GaveUpAt != nil:
			claim = app.GaveUp
			return nil
		case d.LeaseUntil != nil && d.LeaseUntil.After(now):
			claim = app.Busy
			return nil
		}
		claim, attempt = app.Claimed, d.Attempts+1
		return tx.Model(&delivery{}).Where("event_id = ?", id).
			Updates(map[string]any{"attempts": attempt, "lease_until": until}).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return app.Busy, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("claim delivery: %w", err)
	}
	return claim, attempt, nil
}

// MarkSent implements app.Store.
func (s *Store) MarkSent(ctx context.Context, id string, at time.Time) error {
	return s.update(ctx, id, map[string]any{"sent_at": at, "lease_until": nil, "last_error": ""})
}

// Release implements app.Store.
func (s *Store) Release(ctx context.Context, id string, reason string) error {
	return s.update(ctx, id, map[string]any{"lease_until": nil, "last_error": truncate(reason, 500)})
}

// GiveUp implements app.Store.
func (s *Store) GiveUp(ctx context.Context, id string, reason string, at time.Time) error {
	return s.update(ctx, id, map[string]any{"gave_up_at": at, "lease_until": nil, "last_error": truncate(reason, 500)})
}

func (s *Store) update(ctx context.Context, id string, cols map[string]any) error {
	if err := s.db.WithContext(ctx).Model(&delivery{}).Where("event_id = ?", id).Updates(cols).Error; err != nil {
		return fmt.Errorf("update delivery %s: %w", id, database.Classify(err))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
