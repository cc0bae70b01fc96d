package database

import (
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
