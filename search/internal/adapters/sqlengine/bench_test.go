package sqlengine

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"gorm.io/gorm"

	"pixshare/platform/database"
	"pixshare/platform/database/dbtest"
	"pixshare/search/internal/domain"
)

// The search benchmark: PIXSHARE_BENCH_POSTS posts (default 100,000), each
// with three tags drawn from a skewed distribution over 500 tags and an
// eight-word caption, on SQLite and (when its DSN is set) PostgreSQL. It
// reports p50/p99 per query beside ns/op: a two-tag search, autocomplete,
// and the same two-tag query run directly in SQL.

var (
	benchOnce sync.Map // backend -> *benchModel
	vocab     = []string{"sunset", "beach", "city", "night", "mountain", "river", "forest", "street", "portrait",
		"coffee", "morning", "friends", "dog", "cat", "light", "shadow", "winter", "summer", "rain", "snow"}
)

type benchModel struct {
	once sync.Once
	db   *gorm.DB
	e    *Engine
	err  error
}

func postsWanted() int {
	if n, err := strconv.Atoi(os.Getenv("PIXSHARE_BENCH_POSTS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// tag draws tag i with probability falling like 1/(i+1).
func tag(rng *rand.Rand) string {
	return fmt.Sprintf("tag%d", int(rng.ExpFloat64()*40)%500)
}

// openSQLite opens a database that outlives one benchmark (the model is
// built once per process), in a temp dir the OS cleans.
func openSQLite(b *testing.B) (*gorm.DB, error) {
	dir, err := os.MkdirTemp("", "pixshare-search-bench-")
	if err != nil {
		return nil, err
	}
	return database.Open(context.Background(), database.Config{URL: "sqlite://" + filepath.Join(dir, "search.db"), MaxOpenConns: 4}, zap.NewNop())
}

// openPostgres uses the schema bench_search, recreated by each run.
func openPostgres(b *testing.B) (*gorm.DB, error) {
	dsn := os.Getenv(dbtest.PostgresEnv)
	admin, err := database.Open(context.Background(), database.Config{URL: dsn, MaxOpenConns: 1}, zap.NewNop())
	if err != nil {
		return nil, err
	}
	if err := admin.Exec("DROP SCHEMA IF EXISTS bench_search CASCADE; CREATE SCHEMA bench_search").Error; err != nil {
		return nil, err
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", "bench_search")
	u.RawQuery = q.Encode()
	return database.Open(context.Background(), database.Config{URL: u.String(), MaxOpenConns: 4}, zap.NewNop())
}

func load(b *testing.B, backend string, open func(*testing.B) (*gorm.DB, error)) *benchModel {
	v, _ := benchOnce.LoadOrStore(backend, &benchModel{})
	m := v.(*benchModel)
	m.once.Do(func() {
		if m.db, m.err = open(b); m.err != nil {
			return
		}
		if m.err = Migrate(context.Background(), m.db); m.err != nil {
			return
		}
		m.e = New(m.db)
		rng := rand.New(rand.NewPCG(1, 2))
		total, start := postsWanted(), time.Now()
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		i := 0
		_, m.err = m.e.Rebuild(context.Background(), func(context.Context) ([]domain.Doc, error) {
			if i >= total {
				return nil, io.EOF
			}
			page := make([]domain.Doc, 0, 1000)
			for ; i < total && len(page) < 1000; i++ {
				tags := []string{tag(rng), tag(rng), tag(rng)}
				slices.Sort(tags)
				tags = slices.Compact(tags)
				caption := ""
				for range 8 {
					caption += vocab[rng.IntN(len(vocab))] + " "
				}
				at := base.Add(time.Duration(i) * time.Second)
				page = append(page, domain.Doc{PostID: fmt.Sprintf("p%07d", i), AuthorID: fmt.Sprintf("u%04d", rng.IntN(2000)),
					Caption: caption, Tags: tags, Version: 1, CreatedAt: at, UpdatedAt: at})
			}
			return page, nil
		})
		b.Logf("%s: loaded %d posts in %s", backend, total, time.Since(start).Round(time.Millisecond))
	})
	if m.err != nil {
		b.Fatal(m.err)
	}
	return m
}

// timed runs f b.N times and reports p50 and p99 in microseconds.
func timed(b *testing.B, f func() error) {
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(durations)
	pct := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

func BenchmarkSearch(b *testing.B) {
	backends := map[string]func(*testing.B) (*gorm.DB, error){"sqlite": openSQLite}
	if os.Getenv(dbtest.PostgresEnv) != "" {
		backends["postgres"] = openPostgres
	}
	for _, name := range []string{"sqlite", "postgres"} {
		open, ok := backends[name]
		if !ok {
			continue
		}
		b.Run(name+"/two-tags", func(b *testing.B) {
			m := load(b, name, open)
			q := domain.Query{Tags: []string{"tag0", "tag3"}, Limit: 20}
			timed(b, func() error { _, err := m.e.Search(context.Background(), q); return err })
		})
		b.Run(name+"/autocomplete", func(b *testing.B) {
			m := load(b, name, open)
			timed(b, func() error { _, err := m.e.Autocomplete(context.Background(), "tag1", nil, 10); return err })
		})
		b.Run(name+"/two-tags-direct-sql", func(b *testing.B) {
			m := load(b, name, open)
			// The statements the engine sends for the two-tag search (a
			// count and a page), without GORM or the engine around them.
			const where = `FROM search_tags AS t0 JOIN search_docs AS d ON d.post_id = t0.post_id
				WHERE t0.tag = ? AND EXISTS (SELECT 1 FROM search_tags x WHERE x.post_id = t0.post_id AND x.tag = ?)`
			sqlDB, err := m.db.DB()
			if err != nil {
				b.Fatal(err)
			}
			timed(b, func() error {
				var n int64
				if err := sqlDB.QueryRow(rebind(name, "SELECT COUNT(*) "+where), "tag0", "tag3").Scan(&n); err != nil {
					return err
				}
				rows, err := sqlDB.Query(rebind(name, "SELECT d.* "+where+" ORDER BY t0.created_at DESC, t0.post_id DESC LIMIT 20"), "tag0", "tag3")
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
				}
				return rows.Err()
			})
		})
	}
}

// rebind turns ? placeholders into $n for PostgreSQL.
func rebind(backend, q string) string {
	if backend != "postgres" {
		return q
	}
	out, n := []byte{}, 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, '$')
			out = append(out, strconv.Itoa(n)...)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}
