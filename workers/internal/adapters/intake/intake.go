// Package intake keeps, in the thumbnailer's own database, the deliveries
// it has taken off the sidecar's hands and not finished yet: the record
// that lets it acknowledge a message before the work is done without
// losing it (docs/architecture.md, "Dapr": the thumbnailer's work queue).
package intake

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"pixshare/platform/database"
	"pixshare/platform/pubsub"
)

// row is one delivery taken and not finished.
type row struct {
	// ID is the CloudEvent id: a redelivery of the same event is one row.
	ID     string `gorm:"column:event_id;primaryKey;size:100"`
	Type   string `gorm:"size:100;not null"`
	Topic  string `gorm:"size:100;not null"`
	Source string `gorm:"size:100;not null"`
	Data   []byte `gorm:"not null"`
	// Seq orders the rows as they were taken (a UnixNano), so work
	// resumed after a restart starts with the oldest.
	Seq int64 `gorm:"not null;index"`
}

func (row) TableName() string { return "work_queue" }

// Migrate creates the schema.
func Migrate(db *gorm.DB) error {
	if err := db.AutoMigrate(&row{}); err != nil {
		return fmt.Errorf("migrate work_queue: %w", err)
	}
	return nil
}

// Store is ports.Intake over GORM (SQLite or PostgreSQL).
type Store struct{ db *gorm.DB }

// New returns a Store over db (migrated).
func New(db *gorm.DB) *Store { return &Store{db: db} }

// Add records ev; recording an event already there changes nothing. It
// returns once the row is committed.
func (s *Store) Add(ctx context.Context, ev pubsub.Event) error {
	r := row{ID: ev.ID, Type: ev.Type, Topic: ev.Topic, Source: ev.Source, Data: ev.Data, Seq: time.Now().UnixNano()}
	if r.Data == nil {
		r.Data = []byte{}
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error
	if err != nil {
		return fmt.Errorf("record delivery %s: %w", ev.ID, database.Classify(err))
	}
	return nil
}

// Remove forgets the event with id (finished, or given up for good).
func (s *Store) Remove(ctx context.Context, id string) error {
	if err := s.db.WithContext(ctx).Where("event_id = ?", id).Delete(&row{}).Error; err != nil {
		return fmt.Errorf("forget delivery %s: %w", id, database.Classify(err))
	}
	return nil
}

// All returns every recorded event, oldest first.
func (s *Store) All(ctx context.Context) ([]pubsub.Event, error) {
	var rows []row
	if err := s.db.WithContext(ctx).Order("seq, event_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read the work queue: %w", database.Classify(err))
	}
	out := make([]pubsub.Event, 0, len(rows))
	for _, r := range rows {
		out = append(out, pubsub.Event{ID: r.ID, Type: r.Type, Topic: r.Topic, Source: r.Source, Data: r.Data})
	}
	return out, nil
}
