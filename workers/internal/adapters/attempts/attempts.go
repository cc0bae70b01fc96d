// Package attempts records, in the thumbnailer's own database, how many
// times each piece of work was started and never came back: the count that
// ends poison messages. It lives in a database, not in process memory,
// because the attempts worth counting are the ones that killed the process
// (an out-of-memory kill, a crash in a decoder's goroutine).
package attempts

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"pixshare/platform/database"
)

// row is one piece of work in progress or that crashed its consumer.
type row struct {
	Key       string `gorm:"column:work_key;primaryKey;size:200"`
	Attempts  int    `gorm:"not null"`
	UpdatedAt time.Time
}

func (row) TableName() string { return "work_attempts" }

// Migrate creates the schema.
func Migrate(db *gorm.DB) error {
	if err := db.AutoMigrate(&row{}); err != nil {
		return fmt.Errorf("migrate work_attempts: %w", err)
	}
	return nil
}

// Store is app.Attempts over GORM (SQLite or PostgreSQL).
type Store struct{ db *gorm.DB }

// New returns a Store over db (migrated).
func New(db *gorm.DB) *Store { return &Store{db: db} }

// Begin implements app.Attempts: it counts one more attempt of key and
// returns the count, committed before the work starts, so that a crash
// mid-work is counted.
func (s *Store) Begin(ctx context.Context, key string) (int, error) {
	var n int
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		// One statement for both the first attempt and the next ones: two
		// deliveries of the same work racing cannot both insert.
		err := tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "work_key"}},
			DoUpdates: clause.Assignments(map[string]any{
				"attempts":   gorm.Expr("work_attempts.attempts + 1"),
				"updated_at": time.Now().UTC(),
			}),
		}).Create(&row{Key: key, Attempts: 1}).Error
		if err != nil {
			return err
		}
		var r row
		if err := tx.Where("work_key = ?", key).Take(&r).Error; err != nil {
			return err
		}
		n = r.Attempts
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("record an attempt of %s: %w", key, err)
	}
	return n, nil
}

// Returned implements app.Attempts: the attempt ended without crashing (a
// failure to be retried), so it no longer counts.
func (s *Store) Returned(ctx context.Context, key string) error {
	err := s.db.WithContext(ctx).Model(&row{}).Where("work_key = ? AND attempts > 0", key).
		Updates(map[string]any{"attempts": gorm.Expr("attempts - 1"), "updated_at": time.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("uncount an attempt of %s: %w", key, database.Classify(err))
	}
	return nil
}

// Done implements app.Attempts: the work ended for good (made, failed or
// given up), and its count goes.
func (s *Store) Done(ctx context.Context, key string) error {
	if err := s.db.WithContext(ctx).Where("work_key = ?", key).Delete(&row{}).Error; err != nil {
		return fmt.Errorf("forget the attempts of %s: %w", key, database.Classify(err))
	}
	return nil
}

// Count returns the recorded attempts of key (0 when none); for tests and
// operators.
func (s *Store) Count(ctx context.Context, key string) (int, error) {
	var r row
	err := s.db.WithContext(ctx).Where("work_key = ?", key).Limit(1).Find(&r).Error
	if err != nil {
		return 0, fmt.Errorf("read the attempts of %s: %w", key, database.Classify(err))
	}
	return r.Attempts, nil
}
