package adapters

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"gorm.io/gorm"

	"pixshare/platform/apperror"
	"pixshare/platform/database/dbtest"
	"pixshare/post/internal/domain"
)

// TestLikeCountersUnderConcurrency: 50 goroutines like and unlike 6 posts
// as 10 users, 5,000 operations in all; like_count equals the live like
// rows of every post afterwards, on SQLite and PostgreSQL.
func TestLikeCountersUnderConcurrency(t *testing.T) {
	if testing.Short() {
		t.Skip("concurrency test skipped in -short mode")
	}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		r := newRepo(t, db)
		posts := make([]string, 6)
		for i := range posts {
			posts[i] = mkPost(t, r, fmt.Sprintf("author%d", i)).ID
		}
		const workers, perWorker = 50, 100
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				for range perWorker {
					post, user := posts[rng.IntN(len(posts))], fmt.Sprintf("user%d", rng.IntN(10))
					var err error
					if rng.IntN(2) == 0 {
						err = r.Like(ctx, post, user)
					} else {
						err = r.Unlike(ctx, post, user)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if bad, err := r.LikesConsistent(ctx); err != nil || len(bad) > 0 {
			t.Fatalf("posts whose like_count is not their live likes: %v (%v)", bad, err)
		}
		// A deleted account's likes leave every count.
		for _, p := range posts {
			if err := r.Like(ctx, p, "leaver"); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := r.RemoveLikesBy(ctx, "leaver"); err != nil || len(n) != len(posts) {
			t.Fatalf("removed likes of %v (%v), want %d posts", n, err, len(posts))
		}
		if bad, err := r.LikesConsistent(ctx); err != nil || len(bad) > 0 {
			t.Fatalf("after the account's likes left: %v (%v)", bad, err)
		}
		liked, err := r.LikedBy(ctx, "leaver", posts)
		if err != nil || len(liked) != 0 {
			t.Fatalf("the deleted account still likes %v (%v)", liked, err)
		}
		if err := r.Like(ctx, "no-such-post", "u"); !apperror.Is(err, apperror.NotFound) {
			t.Fatalf("liking a missing post: %v", err)
		}
	})
}

func TestTagTimeline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		r := newRepo(t, db)
		a := mkPost(t, r, "alice", "sea", "sun")
		b := mkPost(t, r, "bob", "sea")
		c := mkPost(t, r, "carol", "sun")
		for _, id := range []string{a.ID, b.ID, c.ID} {
			markReady(t, r, id)
		}
		ids := func(tag string, exclude ...string) []string {
			posts, err := r.Timeline(ctx, tag, exclude, "", 10)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, p := range posts {
				out = append(out, p.ID)
			}
			return out
		}
		if got := ids("sea"); len(got) != 2 || got[0] != b.ID || got[1] != a.ID {
			t.Fatalf("sea timeline = %v, want b, a (newest first)", got)
		}
		if got := ids("", "bob"); len(got) != 2 || got[0] != c.ID {
			t.Fatalf("public timeline without bob = %v", got)
		}
		if _, err := r.Delete(ctx, a.ID, func(domain.Post) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if got := ids("sun"); len(got) != 1 || got[0] != c.ID {
			t.Fatalf("a deleted post stayed on its tag's timeline: %v", got)
		}
	})
}
