// Package deletedauthors remembers, in a service's own database, the
// accounts whose deletion it has handled, so that nothing an author
// creates after their deletion goes live.
//
// A request authenticated just before its account was deleted (or inside
// a cache window) may still reach a create. The consumer of user.deleted
// records the author and removes their content in one transaction; every
// create checks the record in its own transaction. Both take the same
// per-author lock first (database.LockKey), so whichever commits second
// sees the other: a create that commits first is removed by the consumer,
// a create that comes after is refused. The record is never removed:
// account ids are never reused.
package deletedauthors

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"pixshare/platform/apperror"
	"pixshare/platform/database"
)

type row struct {
	UserID    string `gorm:"primaryKey;size:64"`
	DeletedAt time.Time
}

func (row) TableName() string { return "deleted_authors" }

// Migrate creates the table.
func Migrate(db *gorm.DB) error {
	if err := db.AutoMigrate(&row{}); err != nil {
		return fmt.Errorf("migrate deleted_authors: %w", err)
	}
	return nil
}

func lock(tx *gorm.DB, userID string) error {
	return database.LockKey(tx, "author:"+userID)
}

// Record notes userID as deleted. Call it first in the transaction that
// removes the author's content.
func Record(tx *gorm.DB, userID string) error {
	if err := lock(tx, userID); err != nil {
		return err
	}
	err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row{UserID: userID, DeletedAt: tx.NowFunc()}).Error
	if err != nil {
		return fmt.Errorf("record deleted author: %w", err)
	}
	return nil
}

// Check refuses content from a deleted author with an Unauthenticated
// error (the account is gone, as its token is). Call it first in the
// transaction that creates the content.
func Check(tx *gorm.DB, userID string) error {
	if err := lock(tx, userID); err != nil {
		return err
	}
	var n int64
	if err := tx.Model(&row{}).Where("user_id = ?", userID).Count(&n).Error; err != nil {
		return fmt.Errorf("check deleted author: %w", err)
	}
	if n > 0 {
		return apperror.Unauthenticatedf("the account was deleted")
	}
	return nil
}
