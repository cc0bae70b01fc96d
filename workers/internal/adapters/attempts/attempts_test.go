package attempts_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"pixshare/platform/database/dbtest"
	"pixshare/workers/internal/adapters/attempts"
)

// TestAttempts on SQLite and, when configured, PostgreSQL: Begin counts
// and returns the count, Returned takes one back, Done forgets, and keys
// are independent.
func TestAttempts(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *gorm.DB{"sqlite": dbtest.SQLite, "postgres": dbtest.Postgres} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			if err := attempts.Migrate(db); err != nil {
				t.Fatal(err)
			}
			s := attempts.New(db)
			ctx := context.Background()
			for want := 1; want <= 3; want++ {
				n, err := s.Begin(ctx, "post:a:1")
				if err != nil || n != want {
					t.Fatalf("Begin #%d = %d, %v", want, n, err)
				}
			}
			if n, err := s.Begin(ctx, "post:b:1"); err != nil || n != 1 {
				t.Fatalf("another key: %d, %v", n, err)
			}
			if err := s.Returned(ctx, "post:a:1"); err != nil {
				t.Fatal(err)
			}
			if n, _ := s.Count(ctx, "post:a:1"); n != 2 {
				t.Fatalf("after Returned: %d", n)
			}
			if err := s.Done(ctx, "post:a:1"); err != nil {
				t.Fatal(err)
			}
			if n, _ := s.Count(ctx, "post:a:1"); n != 0 {
				t.Fatalf("after Done: %d", n)
			}
			if n, err := s.Begin(ctx, "post:a:1"); err != nil || n != 1 {
				t.Fatalf("Begin after Done = %d, %v", n, err)
			}
		})
	}
}
