// Package dbtest gives tests a fresh database on every backend Pixshare
// supports: SQLite always, PostgreSQL when PIXSHARE_TEST_POSTGRES_DSN is set
// (each test gets its own schema, dropped afterwards).
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"
	"gorm.io/gorm"

	"pixshare/platform/database"
)

// PostgresEnv names the variable holding the test PostgreSQL DSN.
const PostgresEnv = "PIXSHARE_TEST_POSTGRES_DSN"

// SQLiteURL returns a sqlite:// URL of a fresh file in t's temp dir.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
}

// SQLite opens a fresh SQLite database for t.
func SQLite(t testing.TB) *gorm.DB {
	t.Helper()
	return open(t, SQLiteURL(t))
}

// PostgresURL returns the URL of a fresh schema in the test PostgreSQL, or
// skips t when none is configured.
func PostgresURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", PostgresEnv)
	}
	admin := open(t, dsn)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Postgres opens a fresh schema in the test PostgreSQL, or skips t.
func Postgres(t testing.TB) *gorm.DB {
	t.Helper()
	return open(t, PostgresURL(t))
}

// Each runs fn once per backend as subtests named "sqlite" and "postgres".
func Each(t *testing.T, fn func(t *testing.T, db *gorm.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

func open(t testing.TB, u string) *gorm.DB {
	t.Helper()
	db, err := database.Open(context.Background(), database.Config{
		URL: u, MaxOpenConns: 16, MaxIdleConns: 4,
	}, zap.NewNop())
	if err != nil {
		t.Fatalf("open %s: %v", database.Dialect(u), err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	return db
}
