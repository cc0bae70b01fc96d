package database_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"pixshare/platform/database"
	"pixshare/platform/database/dbtest"
)

type item struct {
	ID        string `gorm:"primaryKey;size:36"`
	Name      string `gorm:"size:50;not null;uniqueIndex:idx_item_name_live,where:deleted_at IS NULL"`
	Count     int
	DeletedAt gorm.DeletedAt
}

func TestBackends(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		if err := db.AutoMigrate(&item{}); err != nil {
			t.Fatal(err)
		}
		if err := database.Ping(ctx, db); err != nil {
			t.Fatal(err)
		}

		// Uniqueness holds among live rows only.
		if err := db.Create(&item{ID: "1", Name: "a"}).Error; err != nil {
			t.Fatal(err)
		}
		err := db.Create(&item{ID: "2", Name: "a"}).Error
		if !errors.Is(err, gorm.ErrDuplicatedKey) {
			t.Fatalf("want ErrDuplicatedKey for a live duplicate, got %v", err)
		}
		if err := db.Delete(&item{ID: "1"}).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Create(&item{ID: "3", Name: "a"}).Error; err != nil {
			t.Fatalf("a soft-deleted row must not block its name: %v", err)
		}

		// Concurrent read-modify-write transactions serialize without
		// SQLITE_BUSY errors and without lost updates.
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- db.Transaction(func(tx *gorm.DB) error {
					var it item
					if err := tx.Clauses(database.ForUpdate(tx)...).First(&it, "id = ?", "3").Error; err != nil {
						return err
					}
					return tx.Model(&it).Update("count", it.Count+1).Error
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("transaction: %v", err)
			}
		}
		var it item
		if err := db.First(&it, "id = ?", "3").Error; err != nil {
			t.Fatal(err)
		}
		if it.Count != 40 {
			t.Fatalf("lost updates: count = %d, want 40", it.Count)
		}
	})
}

func TestConfig(t *testing.T) {
	t.Parallel()
	bad := database.Config{URL: "mysql://x", MaxOpenConns: 1}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("want a DATABASE_URL error, got %v", err)
	}
	withPassword := database.Config{URL: "mysql://u:secret@h/db", MaxOpenConns: 1}
	if err := withPassword.Validate(); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("the password must not appear in errors: %v", err)
	}
}
