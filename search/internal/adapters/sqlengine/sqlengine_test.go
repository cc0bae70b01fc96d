package sqlengine

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"gorm.io/gorm"

	"pixshare/platform/database/dbtest"
	"pixshare/search/internal/adapters/contract"
	"pixshare/search/internal/app"
	"pixshare/search/internal/domain"
)

func TestContract(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *gorm.DB{"sqlite": dbtest.SQLite, "postgres": dbtest.Postgres} {
		t.Run(name, func(t *testing.T) {
			contract.Run(t, func(t *testing.T) app.Engine {
				db := open(t)
				if err := Migrate(context.Background(), db); err != nil {
					t.Fatal(err)
				}
				return New(db)
			})
		})
	}
}

// After a re-index PostgreSQL's planner must know the tables' shape:
// without statistics it chose a nested loop that made a two-tag search over
// 100 000 posts three times slower (docs/benchmarks.md).
func TestRebuildGathersPlannerStatistics(t *testing.T) {
	db := dbtest.Postgres(t)
	ctx := context.Background()
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	pages := 2
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := New(db).Rebuild(ctx, func(context.Context) ([]domain.Doc, error) {
		if pages == 0 {
			return nil, io.EOF
		}
		pages--
		docs := make([]domain.Doc, 0, 50)
		for i := range 50 {
			id := fmt.Sprintf("p%d-%02d", pages, i)
			docs = append(docs, domain.Doc{PostID: id, AuthorID: "u1", Caption: "sea at dusk", Tags: []string{"sea", fmt.Sprintf("t%d", i%7)},
				Version: 1, CreatedAt: at, UpdatedAt: at})
		}
		return docs, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	err = db.Raw("SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'search_tags'").Scan(&n).Error
	if err != nil || n == 0 {
		t.Fatalf("no planner statistics for search_tags after Rebuild (%d rows, %v)", n, err)
	}
}
