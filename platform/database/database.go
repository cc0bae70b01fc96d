// Package database opens the service's own database with GORM: SQLite
// (gorm.io/driver/sqlite, which needs cgo; WAL, busy timeout, immediate
// transactions) by default, or PostgreSQL when DATABASE_URL says so. The
// same repositories and tests run on both.
package database

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// Config is read from the environment.
type Config struct {
	// URL is sqlite://<path> (relative to the working directory) or a
	// postgres:// URL.
	URL             string        `env:"DATABASE_URL"`
	MaxOpenConns    int           `env:"DATABASE_MAX_OPEN_CONNS" envDefault:"16"`
	MaxIdleConns    int           `env:"DATABASE_MAX_IDLE_CONNS" envDefault:"8"`
	ConnMaxLifetime time.Duration `env:"DATABASE_CONN_MAX_LIFETIME" envDefault:"30m"`
	// SlowQuery is the duration above which a query is logged as slow.
	SlowQuery time.Duration `env:"DATABASE_SLOW_QUERY" envDefault:"200ms"`
}

// Validate checks the URL's scheme and the pool numbers.
func (c *Config) Validate() error {
	if c.URL != "" && Dialect(c.URL) == "" {
		return fmt.Errorf("DATABASE_URL: scheme must be sqlite:// or postgres://, got %q", redact(c.URL))
	}
	if c.MaxOpenConns < 1 || c.MaxIdleConns < 0 {
		return errors.New("DATABASE_MAX_OPEN_CONNS must be at least 1 and DATABASE_MAX_IDLE_CONNS not negative")
	}
	return nil
}

// Dialect returns "sqlite", "postgres" or "" for an unsupported URL.
func Dialect(url string) string {
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		return "sqlite"
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return "postgres"
	}
	return ""
}

// Open connects, applies pool settings and checks the connection.
func Open(ctx context.Context, cfg Config, logger *zap.Logger) (*gorm.DB, error) {
	if cfg.URL == "" {
		return nil, errors.New("DATABASE_URL is not set")
	}
	var dialector gorm.Dialector
	switch Dialect(cfg.URL) {
	case "sqlite":
		dsn, err := sqliteDSN(cfg.URL)
		if err != nil {
			return nil, err
		}
		dialector = sqlite.Open(dsn)
	case "postgres":
		dialector = postgres.Open(cfg.URL)
	default:
		return nil, fmt.Errorf("unsupported DATABASE_URL %q", redact(cfg.URL))
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 newGormLogger(logger, cfg.SlowQuery),
		TranslateError:         true,
		SkipDefaultTransaction: true,
		// Statements are prepared once per connection and kept: parsing and
		// planning the same few queries on every request was a tenth of a
		// warm read's CPU in post (docs/benchmarks.md). Queries with IN
		// lists of varying length make distinct statements, hence the bound
		// and the TTL.
		PrepareStmt:        true,
		PrepareStmtMaxSize: 512,
		PrepareStmtTTL:     10 * time.Minute,
		NowFunc:            func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("database handle: %w", err)
	}
	sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
	sqlDB.SetMaxIdleConns(cfg.MaxIdleConns)
	sqlDB.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to database %s: %w", redact(cfg.URL), err)
	}
	return db, nil
}

// sqliteDSN turns sqlite://path into a driver DSN. WAL lets readers run
// beside the writer; busy_timeout makes a writer wait for the lock instead of
// failing; _txlock=immediate takes the write lock at BEGIN, so two
// transactions that read then write cannot deadlock into SQLITE_BUSY.
func sqliteDSN(url string) (string, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
	query := ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	if path == "" {
		return "", errors.New("DATABASE_URL: sqlite path is empty")
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", fmt.Errorf("create database directory: %w", err)
		}
	}
	// mattn/go-sqlite3's DSN parameters: each applies to every connection
	// the pool opens.
	params := []string{
		"_journal_mode=WAL",
		"_busy_timeout=10000",
		"_foreign_keys=1",
		"_synchronous=NORMAL",
		"_txlock=immediate",
	}
	if query != "" {
		params = append(params, query)
	}
	return "file:" + path + "?" + strings.Join(params, "&"), nil
}

// redact hides a password in a database URL before it is logged.
func redact(url string) string {
	at := strings.LastIndexByte(url, '@')
	scheme := strings.Index(url, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return url
	}
	creds := url[scheme+3 : at]
	if i := strings.IndexByte(creds, ':'); i >= 0 {
		return url[:scheme+3] + creds[:i] + ":***" + url[at:]
	}
	return url
}

// Ping checks the database answers; readiness uses it.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	return nil
}
