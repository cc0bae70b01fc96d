package adapters

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"pixshare/contracts/events"
	"pixshare/platform/apperror"
	"pixshare/platform/database/dbtest"
	"pixshare/platform/outbox"
	"pixshare/user/internal/domain"
)

func newRepo(t *testing.T, db *gorm.DB) *Repository {
	t.Helper()
	if err := Migrate(db); err != nil {
		t.Fatal(err)
	}
	return NewRepository(db)
}

func mkUser(t *testing.T, r *Repository, name string) domain.User {
	t.Helper()
	u := domain.User{ID: uuid.Must(uuid.NewV7()).String(), Username: name, Email: name + "@example.com",
		PasswordHash: "x", Status: domain.StatusActive}
	if err := r.Create(context.Background(), &u); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return u
}

func counts(t *testing.T, r *Repository, id string) (followers, following int64) {
	t.Helper()
	u, err := r.ByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u.FollowerCount, u.FollowingCount
}

func assertConsistent(t *testing.T, r *Repository) {
	t.Helper()
	bad, err := r.CountersConsistent(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("counters differ from relationship rows for %d users: %v", len(bad), bad)
	}
}

func TestRepository(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		r := newRepo(t, db)
		alice, bob, carol := mkUser(t, r, "alice"), mkUser(t, r, "bob"), mkUser(t, r, "carol")

		t.Run("uniqueness among live rows", func(t *testing.T) {
			dup := domain.User{ID: uuid.NewString(), Username: "alice", Email: "other@example.com", PasswordHash: "x", Status: domain.StatusActive}
			if err := r.Create(ctx, &dup); !apperror.Is(err, apperror.Conflict) {
				t.Fatalf("duplicate username: want Conflict, got %v", err)
			}
			dup = domain.User{ID: uuid.NewString(), Username: "alice2", Email: "alice@example.com", PasswordHash: "x", Status: domain.StatusActive}
			err := r.Create(ctx, &dup)
			if e, ok := apperror.As(err); !ok || e.Kind != apperror.Conflict || e.Fields[0].Field != "email" {
				t.Fatalf("duplicate email: want Conflict on email, got %v", err)
			}
		})

		t.Run("registration queues one welcome mail, a refused one none", func(t *testing.T) {
			var msgs []outbox.Message
			if err := db.Where("type = ?", events.TypeSendEmail).Order("id").Find(&msgs).Error; err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 3 {
				t.Fatalf("%d welcome mails queued for 3 registrations (and 2 refused), want 3", len(msgs))
			}
			e, err := events.ParseSendEmail(msgs[0].Payload)
			if err != nil || msgs[0].Topic != events.TopicMail || e.UserID != alice.ID || e.To != "alice@example.com" ||
				e.Username != "alice" || e.Template != events.MailWelcome {
				t.Fatalf("first mail %s on %s = %+v, %v", msgs[0].Payload, msgs[0].Topic, e, err)
			}
		})

		t.Run("login by username or email", func(t *testing.T) {
			for _, login := range []string{"alice", "ALICE", "alice@example.com", "Alice@Example.com"} {
				u, err := r.ByLogin(ctx, login)
				if err != nil || u.ID != alice.ID {
					t.Errorf("ByLogin(%q) = %v, %v", login, u.ID, err)
				}
			}
			if _, err := r.ByLogin(ctx, "nobody"); !errors.Is(err, domain.ErrNoUser) {
				t.Errorf("unknown login: %v", err)
			}
		})

		t.Run("follow is idempotent and counted", func(t *testing.T) {
			for range 3 {
				if err := r.Follow(ctx, alice.ID, bob.ID); err != nil {
					t.Fatal(err)
				}
			}
			if f, _ := counts(t, r, bob.ID); f != 1 {
				t.Fatalf("bob followers = %d, want 1", f)
			}
			if _, f := counts(t, r, alice.ID); f != 1 {
				t.Fatalf("alice following = %d, want 1", f)
			}
			for range 2 {
				if err := r.Unfollow(ctx, alice.ID, bob.ID); err != nil {
					t.Fatal(err)
				}
			}
			if f, _ := counts(t, r, bob.ID); f != 0 {
				t.Fatalf("bob followers after unfollow = %d, want 0", f)
			}
			if err := r.Follow(ctx, alice.ID, "no-such-user"); !errors.Is(err, domain.ErrNoUser) {
				t.Fatalf("follow unknown: %v", err)
			}
			assertConsistent(t, r)
		})

		t.Run("block removes follows both ways and forbids following", func(t *testing.T) {
			must(t, r.Follow(ctx, alice.ID, carol.ID))
			must(t, r.Follow(ctx, carol.ID, alice.ID))
			must(t, r.Block(ctx, carol.ID, alice.ID))
			must(t, r.Block(ctx, carol.ID, alice.ID))
			if f, g := counts(t, r, carol.ID); f != 0 || g != 0 {
				t.Fatalf("carol counters after block = %d/%d", f, g)
			}
			if err := r.Follow(ctx, alice.ID, carol.ID); !apperror.Is(err, apperror.Forbidden) {
				t.Fatalf("blocked user following: want Forbidden, got %v", err)
			}
			if err := r.Follow(ctx, carol.ID, alice.ID); !apperror.Is(err, apperror.Forbidden) {
				t.Fatalf("blocker following: want Forbidden, got %v", err)
			}
			for _, pair := range [][2]string{{alice.ID, carol.ID}, {carol.ID, alice.ID}} {
				if b, err := r.IsBlocked(ctx, pair[0], pair[1]); err != nil || !b {
					t.Fatalf("IsBlocked%v = %v, %v", pair, b, err)
				}
			}
			ids, err := r.BlockedIDs(ctx, alice.ID)
			if err != nil || len(ids) != 1 || ids[0] != carol.ID {
				t.Fatalf("BlockedIDs(alice) = %v, %v", ids, err)
			}
			must(t, r.Unblock(ctx, carol.ID, alice.ID))
			if b, _ := r.IsBlocked(ctx, alice.ID, carol.ID); b {
				t.Fatal("still blocked after unblock")
			}
			must(t, r.Follow(ctx, alice.ID, carol.ID))
			assertConsistent(t, r)
		})

		t.Run("lists page newest first and hide blocked users", func(t *testing.T) {
			star := mkUser(t, r, "star")
			var fans []domain.User
			for i := range 7 {
				f := mkUser(t, r, fmt.Sprintf("fan%d", i))
				must(t, r.Follow(ctx, f.ID, star.ID))
				fans = append(fans, f)
			}
			var seen []string
			cursor := ""
			for {
				page, err := r.Followers(ctx, star.ID, "", cursor, 3)
				if err != nil {
					t.Fatal(err)
				}
				for _, rel := range page {
					seen = append(seen, rel.UserID)
				}
				if len(page) < 3 {
					break
				}
				cursor = page[len(page)-1].Cursor
			}
			if len(seen) != 7 || seen[0] != fans[6].ID || seen[6] != fans[0].ID {
				t.Fatalf("followers pages = %v", seen)
			}
			must(t, r.Block(ctx, fans[3].ID, alice.ID))
			page, err := r.Followers(ctx, star.ID, alice.ID, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, rel := range page {
				if rel.UserID == fans[3].ID {
					t.Fatal("a user who blocks the viewer appears in the viewer's list")
				}
			}
			if len(page) != 6 {
				t.Fatalf("want 6 visible followers, got %d", len(page))
			}
			ids, err := r.FollowingIDs(ctx, fans[0].ID, "", 10)
			if err != nil || len(ids) != 1 || ids[0] != star.ID {
				t.Fatalf("FollowingIDs = %v, %v", ids, err)
			}
		})

		t.Run("delete cascades, frees the name and enqueues user.deleted", func(t *testing.T) {
			dave := mkUser(t, r, "dave")
			must(t, r.Follow(ctx, dave.ID, bob.ID))
			must(t, r.Follow(ctx, carol.ID, dave.ID))
			must(t, r.Block(ctx, dave.ID, alice.ID))
			bobFollowers, _ := counts(t, r, bob.ID)
			_, carolFollowing := counts(t, r, carol.ID)

			affected, err := r.Delete(ctx, dave.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(affected) != 2 {
				t.Fatalf("affected = %v, want bob and carol", affected)
			}
			if f, _ := counts(t, r, bob.ID); f != bobFollowers-1 {
				t.Fatalf("bob followers %d, want %d", f, bobFollowers-1)
			}
			if _, g := counts(t, r, carol.ID); g != carolFollowing-1 {
				t.Fatalf("carol following %d, want %d", g, carolFollowing-1)
			}
			if _, err := r.ByID(ctx, dave.ID); !errors.Is(err, domain.ErrNoUser) {
				t.Fatalf("deleted user still readable: %v", err)
			}
			u, found, err := r.ByIDIncludingDeleted(ctx, dave.ID)
			if err != nil || !found || u.Status != domain.StatusDeleted || u.TokenVersion != 1 {
				t.Fatalf("deleted user: %+v found=%v err=%v", u, found, err)
			}
			if b, _ := r.IsBlocked(ctx, dave.ID, alice.ID); b {
				t.Fatal("blocks of a deleted user remain")
			}
			var msgs []outbox.Message
			if err := db.Where("type = ?", events.TypeUserDeleted).Find(&msgs).Error; err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 1 || !strings.Contains(string(msgs[0].Payload), dave.ID) {
				t.Fatalf("outbox = %+v", msgs)
			}
			mkUser(t, r, "dave") // the name is free again
			if _, err := r.Delete(ctx, dave.ID); !errors.Is(err, domain.ErrNoUser) {
				t.Fatalf("deleting twice: %v", err)
			}
			assertConsistent(t, r)
		})
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCountersUnderConcurrency runs 5,000 random follow, unfollow, block and
// unblock operations from 50 goroutines over a small set of users (so they
// collide constantly), then checks every counter equals its live rows.
func TestCountersUnderConcurrency(t *testing.T) {
	if testing.Short() {
		t.Skip("concurrency test skipped in -short mode")
	}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		r := newRepo(t, db)
		users := make([]string, 12)
		for i := range users {
			users[i] = mkUser(t, r, fmt.Sprintf("user%02d", i)).ID
		}
		const workers, perWorker = 50, 100
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		var mu sync.Mutex
		ops := map[string]int{}
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 42))
				for range perWorker {
					i := rng.IntN(len(users))
					a, b := users[i], users[(i+1+rng.IntN(len(users)-1))%len(users)]
					var err error
					var name string
					switch n := rng.IntN(10); {
					case n < 4:
						name, err = "follow", r.Follow(ctx, a, b)
					case n < 7:
						name, err = "unfollow", r.Unfollow(ctx, a, b)
					case n < 9:
						name, err = "unblock", r.Unblock(ctx, a, b)
					default:
						name, err = "block", r.Block(ctx, a, b)
					}
					if err != nil && !apperror.Is(err, apperror.Forbidden) {
						errs <- fmt.Errorf("%s: %w", name, err)
						return
					}
					mu.Lock()
					ops[name]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		total := 0
		for _, n := range ops {
			total += n
		}
		t.Logf("%d operations: %v", total, ops)
		if total != workers*perWorker {
			t.Fatalf("%d operations ran, want %d", total, workers*perWorker)
		}
		assertConsistent(t, r)
		var dupFollows, dupBlocks int64
		db.Raw(`SELECT COUNT(*) FROM (SELECT follower_id, followee_id FROM follows WHERE deleted_at IS NULL GROUP BY follower_id, followee_id HAVING COUNT(*) > 1) d`).Scan(&dupFollows)
		db.Raw(`SELECT COUNT(*) FROM (SELECT blocker_id, blocked_id FROM blocks WHERE deleted_at IS NULL GROUP BY blocker_id, blocked_id HAVING COUNT(*) > 1) d`).Scan(&dupBlocks)
		if dupFollows+dupBlocks > 0 {
			t.Fatalf("duplicate live rows: %d follows, %d blocks", dupFollows, dupBlocks)
		}
		var followWhileBlocked int64
		db.Raw(`SELECT COUNT(*) FROM follows f JOIN blocks b ON b.deleted_at IS NULL AND
			((b.blocker_id = f.follower_id AND b.blocked_id = f.followee_id) OR (b.blocker_id = f.followee_id AND b.blocked_id = f.follower_id))
			WHERE f.deleted_at IS NULL`).Scan(&followWhileBlocked)
		if followWhileBlocked > 0 {
			t.Fatalf("%d live follows between blocked pairs", followWhileBlocked)
		}
	})
}

func TestSearchUsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		r := newRepo(t, db)
		for _, name := range []string{"ann_a", "anna", "annb", "bob"} {
			mkUser(t, r, name)
		}
		hits, err := r.SearchUsers(ctx, "ann_", "", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		// '_' is taken literally, not as LIKE's one-character wildcard.
		if len(hits) != 1 || hits[0].Username != "ann_a" {
			t.Fatalf("search ann_ = %+v", hits)
		}
		hits, err = r.SearchUsers(ctx, "ann", "", "", 2)
		if err != nil || len(hits) != 2 {
			t.Fatalf("first page: %+v %v", hits, err)
		}
		rest, err := r.SearchUsers(ctx, "ann", "", hits[1].Cursor, 10)
		if err != nil || len(rest) != 1 || rest[0].Username != "annb" {
			t.Fatalf("second page after %q: %+v %v", hits[1].Cursor, rest, err)
		}
	})
}

// Follow/unfollow and block/unblock cycles reuse the pair's row: the
// tables do not grow however often a pair changes its mind.
func TestRelationCyclesKeepOneRowPerPair(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		r := newRepo(t, db)
		a, b := mkUser(t, r, "cycler"), mkUser(t, r, "target")
		rows := func(table string) int64 {
			t.Helper()
			var n int64
			if err := db.Table(table).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		for range 20 {
			must(t, r.Follow(ctx, a.ID, b.ID))
			must(t, r.Unfollow(ctx, a.ID, b.ID))
			must(t, r.Block(ctx, a.ID, b.ID))
			must(t, r.Unblock(ctx, a.ID, b.ID))
		}
		must(t, r.Follow(ctx, a.ID, b.ID))
		if f, bl := rows("follows"), rows("blocks"); f != 1 || bl != 1 {
			t.Fatalf("after 20 cycles: %d follow rows, %d block rows; want 1 and 1", f, bl)
		}
		if followers, _ := counts(t, r, b.ID); followers != 1 {
			t.Fatalf("follower count %d, want 1", followers)
		}
		rel, err := r.Relationship(ctx, a.ID, b.ID)
		if err != nil || !rel.Following || rel.Blocking {
			t.Fatalf("the revived follow is not live (or the block is): %+v %v", rel, err)
		}
		assertConsistent(t, r)
	})
}
