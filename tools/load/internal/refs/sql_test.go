package refs

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"pixshare/search/readmodel"
	"pixshare/search/readmodel/sqlengine"
)

// RunSQL captures the engine's statements on a real read model file and
// replays them.
func TestRunSQLCapturesTheEnginesStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "search.db")
	db, err := gorm.Open(sqlite.Open(path), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlengine.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	e := sqlengine.New(db)
	now := time.Now().UTC()
	for i := range 12 {
		tags := []string{"sea"}
		if i%3 == 0 {
			tags = append(tags, "sunset")
		}
		doc := readmodel.Doc{PostID: fmt.Sprintf("p%02d", i), AuthorID: "a", Caption: "x", Tags: tags, Version: 1,
			CreatedAt: now.Add(time.Duration(i) * time.Second), UpdatedAt: now}
		if _, err := e.Upsert(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	sqlDB, _ := db.DB()
	sqlDB.Close()

	got, err := RunSQL(ctx, SQLConfig{Path: path, Tags: []string{"sunset", "sea"}, Limit: 20, Duration: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got.Matches != 4 {
		t.Fatalf("%d matches, want 4", got.Matches)
	}
	if len(got.Statements) != 2 || !strings.Contains(got.Statements[0], "count(") || !strings.Contains(got.Statements[1], `"sunset"`) {
		t.Fatalf("statements %q: want the COUNT and the page SELECT with their values", got.Statements)
	}
	if got.Runs == 0 || got.BareMs.P50 <= 0 || got.EngineMs.P50 <= 0 {
		t.Fatalf("%+v", got)
	}
}
