package database

import (
	"fmt"
	"hash/fnv"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ForUpdate returns the row-locking clause for a read that a transaction
// will write back: SELECT … FOR UPDATE on PostgreSQL. SQLite has no row
// locks and needs none: every transaction there begins IMMEDIATE and holds
// the database's write lock.
func ForUpdate(tx *gorm.DB) []clause.Expression {
	if tx.Dialector.Name() == "postgres" {
		return []clause.Expression{clause.Locking{Strength: "UPDATE"}}
	}
	return nil
}

// LockKey holds a lock named key until tx ends, so that transactions about
// one thing (an author's new content and the author's deletion, say) run
// one after the other even when neither has a row to lock yet. On
// PostgreSQL it is pg_advisory_xact_lock on a 64-bit FNV-1a hash of key (a
// collision only makes two unrelated transactions wait for each other).
// SQLite needs none: every transaction there holds the write lock.
func LockKey(tx *gorm.DB, key string) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(h.Sum64())).Error; err != nil {
		return fmt.Errorf("lock %q: %w", key, err)
	}
	return nil
}
