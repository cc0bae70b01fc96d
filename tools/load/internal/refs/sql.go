package refs

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"pixshare/search/readmodel"
	"pixshare/search/readmodel/sqlengine"
	"pixshare/tools/load/internal/stats"
)

// SQLConfig describes the search reference.
type SQLConfig struct {
	// Path is the read model's SQLite file (.data/search.db), opened
	// read-only.
	Path     string
	Tags     []string
	Limit    int
	Duration time.Duration
}

// SQL is a two-tag search timed as the SQL engine runs it (through GORM)
// and as the bare statements the engine builds (database/sql, same
// driver, same connection settings minus the writer's).
type SQL struct {
	Tags       []string      `json:"tags"`
	Statements []string      `json:"statements"`
	Matches    int64         `json:"matches"`
	Runs       int           `json:"runs_each"`
	BareMs     stats.Latency `json:"bare_sql_ms"`
	EngineMs   stats.Latency `json:"engine_search_ms"`
	Note       string        `json:"note"`
}

type statement struct {
	sql  string
	vars []any
}

// RunSQL captures the statements of one engine search and times them.
func RunSQL(ctx context.Context, cfg SQLConfig) (SQL, error) {
	out := SQL{Tags: cfg.Tags,
		Note: "the statements as search/readmodel/sqlengine builds them (captured from GORM while the engine ran the query), replayed with database/sql on the same pure-Go SQLite driver, read-only, one at a time, in this process; bare = COUNT + page SELECT with every row read"}
	abs, err := filepath.Abs(cfg.Path)
	if err != nil {
		return out, fmt.Errorf("sql: %w", err)
	}
	var (
		mu         sync.Mutex
		capturing  bool
		statements []statement
	)
	db, err := gorm.Open(sqlite.Open("file:"+abs+"?mode=ro&_pragma=busy_timeout(5000)"),
		&gorm.Config{Logger: logger.Discard})
	if err != nil {
		return out, fmt.Errorf("sql: open %s: %w", abs, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return out, fmt.Errorf("sql: %w", err)
	}
	defer sqlDB.Close()
	capture := func(tx *gorm.DB) {
		mu.Lock()
		defer mu.Unlock()
		if capturing && tx.Error == nil {
			statements = append(statements, statement{tx.Statement.SQL.String(), append([]any(nil), tx.Statement.Vars...)})
		}
	}
	if err := db.Callback().Query().After("gorm:query").Register("load:capture", capture); err != nil {
		return out, fmt.Errorf("sql: %w", err)
	}
	if err := db.Callback().Row().After("gorm:row").Register("load:capture", capture); err != nil {
		return out, fmt.Errorf("sql: %w", err)
	}
	engine := sqlengine.New(db)
	q := readmodel.Query{Tags: cfg.Tags, Limit: cfg.Limit}
	capturing = true
	res, err := engine.Search(ctx, q)
	capturing = false
	if err != nil {
		return out, fmt.Errorf("sql: engine search: %w", err)
	}
	out.Matches = res.Total
	for _, s := range statements {
		out.Statements = append(out.Statements, db.Dialector.Explain(s.sql, s.vars...))
	}
	if len(statements) == 0 {
		return out, fmt.Errorf("sql: captured no statement of the engine's search")
	}

	bare := func() (time.Duration, error) {
		start := time.Now()
		for _, s := range statements {
			if err := drain(ctx, sqlDB, s); err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	}
	viaEngine := func() (time.Duration, error) {
		start := time.Now()
		_, err := engine.Search(ctx, q)
		return time.Since(start), err
	}
	for range 20 {
		if _, err := bare(); err != nil {
			return out, err
		}
	}
	var bs, es []time.Duration
	for end := time.Now().Add(cfg.Duration); time.Now().Before(end); {
		b, err := bare()
		if err != nil {
			return out, err
		}
		e, err := viaEngine()
		if err != nil {
			return out, fmt.Errorf("sql: engine search: %w", err)
		}
		bs, es = append(bs, b), append(es, e)
	}
	out.Runs = len(bs)
	out.BareMs, out.EngineMs = stats.Distribution(bs), stats.Distribution(es)
	return out, nil
}

// drain runs one statement and reads every row.
func drain(ctx context.Context, db *sql.DB, s statement) error {
	rows, err := db.QueryContext(ctx, s.sql, s.vars...)
	if err != nil {
		return fmt.Errorf("sql: %s: %w", firstLine(s.sql), err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("sql: %w", err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("sql: scan: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sql: %w", err)
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
