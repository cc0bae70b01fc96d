package deletedauthors_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"gorm.io/gorm"

	"pixshare/platform/apperror"
	"pixshare/platform/database"
	"pixshare/platform/database/dbtest"
	"pixshare/platform/deletedauthors"
)

type item struct {
	ID     int64 `gorm:"primaryKey"`
	Author string
}

// TestCreateRacesDeletion races creates by an author against the
// author's deletion, many times, on SQLite and PostgreSQL: whichever
// order they commit in, nothing of the author is left and every create
// either landed before the deletion (and was removed by it) or was
// refused after it.
func TestCreateRacesDeletion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		if err := db.AutoMigrate(&item{}); err != nil {
			t.Fatal(err)
		}
		if err := deletedauthors.Migrate(db); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for round := range 40 {
			author := fmt.Sprintf("author-%d", round)
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := database.Transact(ctx, db, func(tx *gorm.DB) error {
						if err := deletedauthors.Check(tx, author); err != nil {
							return err
						}
						return tx.Create(&item{Author: author}).Error
					})
					if err != nil && !apperror.Is(err, apperror.Unauthenticated) {
						errs <- fmt.Errorf("create: %w", err)
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := database.Transact(ctx, db, func(tx *gorm.DB) error {
					if err := deletedauthors.Record(tx, author); err != nil {
						return err
					}
					return tx.Where("author = ?", author).Delete(&item{}).Error
				})
				if err != nil {
					errs <- fmt.Errorf("delete: %w", err)
				}
			}()
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			var left int64
			if err := db.Model(&item{}).Where("author = ?", author).Count(&left).Error; err != nil {
				t.Fatal(err)
			}
			if left != 0 {
				t.Fatalf("round %d: %d items of a deleted author are live", round, left)
			}
			// And after the deletion, creates are refused.
			err := database.Transact(ctx, db, func(tx *gorm.DB) error { return deletedauthors.Check(tx, author) })
			if !apperror.Is(err, apperror.Unauthenticated) {
				t.Fatalf("a create after the deletion: %v", err)
			}
		}
	})
}
