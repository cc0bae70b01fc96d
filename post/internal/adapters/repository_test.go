package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"pixshare/contracts/events"
	"pixshare/contracts/media"
	"pixshare/platform/apperror"
	"pixshare/platform/database/dbtest"
	"pixshare/platform/outbox"
	"pixshare/post/internal/app"
	"pixshare/post/internal/domain"
)

func newRepo(t *testing.T, db *gorm.DB) *Repository {
	t.Helper()
	if err := Migrate(db); err != nil {
		t.Fatal(err)
	}
	return NewRepository(db)
}

func mkPost(t *testing.T, r *Repository, author string, tags ...string) domain.Post {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	p := domain.Post{ID: id, AuthorID: author, Caption: "c " + id, Tags: tags, Status: domain.StatusProcessing,
		Version: 1, OriginalKey: media.OriginalKey(id), Format: "jpeg", Width: 10, Height: 10}
	if err := r.Create(context.Background(), &p, 0); err != nil {
		t.Fatal(err)
	}
	return p
}

// outboxOf returns the outbox messages about post id, oldest first.
func outboxOf(t *testing.T, db *gorm.DB, id string) []outbox.Message {
	t.Helper()
	var all []outbox.Message
	if err := db.Order("id").Find(&all).Error; err != nil {
		t.Fatal(err)
	}
	var out []outbox.Message
	for _, m := range all {
		var probe struct {
			PostID string `json:"post_id"`
		}
		_ = json.Unmarshal(m.Payload, &probe)
		if probe.PostID == id {
			out = append(out, m)
		}
	}
	return out
}

func types(msgs []outbox.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Topic + "/" + m.Type
	}
	return out
}

func markReady(t *testing.T, r *Repository, id string) {
	t.Helper()
	_, err := r.Update(context.Background(), id, func(p *domain.Post) error {
		p.ThumbnailReady, p.IndexedVersion = true, p.Version
		p.Settle()
		return nil
	}, false)
	if err != nil {
		t.Fatal(err)
	}
}

func TestRepository(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		r := newRepo(t, db)

		t.Run("create writes the post and its events together", func(t *testing.T) {
			p := mkPost(t, r, "alice", "sea", "sun")
			got, err := r.ByID(ctx, p.ID)
			if err != nil || got.Caption != p.Caption || len(got.Tags) != 2 || got.Tags[1] != "sun" {
				t.Fatalf("read back %+v, %v", got, err)
			}
			want := []string{"thumbnails/" + events.TypeThumbnailRequested, "search-index/" + events.TypeIndexUpsert}
			if fmt.Sprint(types(outboxOf(t, db, p.ID))) != fmt.Sprint(want) {
				t.Fatalf("outbox = %v, want %v", types(outboxOf(t, db, p.ID)), want)
			}
		})

		t.Run("the thumbnail request names the original's length", func(t *testing.T) {
			id := uuid.Must(uuid.NewV7()).String()
			p := domain.Post{ID: id, AuthorID: "alice", Caption: "c", Status: domain.StatusProcessing, Version: 1,
				OriginalKey: media.OriginalKey(id), Format: "jpeg", Width: 4000, Height: 3000, Size: 4_036_975}
			if err := r.Create(ctx, &p, 0); err != nil {
				t.Fatal(err)
			}
			var req events.ThumbnailRequested
			for _, m := range outboxOf(t, db, id) {
				if m.Type == events.TypeThumbnailRequested {
					if err := json.Unmarshal(m.Payload, &req); err != nil {
						t.Fatal(err)
					}
				}
			}
			if req.OriginalKey != p.OriginalKey || req.OriginalBytes != p.Size {
				t.Fatalf("thumbnail request %+v, want key %s and %d bytes", req, p.OriginalKey, p.Size)
			}
		})

		t.Run("the thumbnailer's rendition bytes are kept", func(t *testing.T) {
			p := mkPost(t, r, "alice")
			if got, _ := r.ByID(ctx, p.ID); got.RenditionBytes != nil {
				t.Fatalf("a new post has rendition bytes %v", got.RenditionBytes)
			}
			bytes := map[string]int64{media.SizeThumb: 4321, media.SizeOriginal: 4_036_975}
			if _, err := r.Update(ctx, p.ID, func(q *domain.Post) error {
				q.MarkThumbnailsReady(3000, 4000, bytes)
				return nil
			}, false); err != nil {
				t.Fatal(err)
			}
			got, err := r.ByID(ctx, p.ID)
			if err != nil || fmt.Sprint(got.RenditionBytes) != fmt.Sprint(bytes) {
				t.Fatalf("read back %v, %v; want %v", got.RenditionBytes, err, bytes)
			}
		})

		t.Run("a failed change writes nothing", func(t *testing.T) {
			p := mkPost(t, r, "alice")
			_, err := r.Update(ctx, p.ID, func(q *domain.Post) error {
				q.Caption = "changed"
				return domain.ErrNotAuthor
			}, true)
			if !apperror.Is(err, apperror.Forbidden) {
				t.Fatalf("want the change's error, got %v", err)
			}
			got, _ := r.ByID(ctx, p.ID)
			if got.Caption != p.Caption || len(outboxOf(t, db, p.ID)) != 2 {
				t.Fatal("a refused change was stored")
			}
		})

		t.Run("edit publishes the new version", func(t *testing.T) {
			p := mkPost(t, r, "alice")
			caption := "edited"
			edit, _ := domain.NewEdit(&caption, nil, nil)
			got, err := r.Update(ctx, p.ID, func(q *domain.Post) error { edit.Apply(q); return nil }, true)
			if err != nil || got.Version != 2 || got.Caption != "edited" {
				t.Fatalf("edit: %+v %v", got, err)
			}
			msgs := outboxOf(t, db, p.ID)
			var up events.IndexUpsert
			if err := json.Unmarshal(msgs[len(msgs)-1].Payload, &up); err != nil || up.Version != 2 || up.Caption != "edited" {
				t.Fatalf("last event %+v %v", up, err)
			}
		})

		t.Run("delete bumps the version and tells everyone", func(t *testing.T) {
			p := mkPost(t, r, "alice")
			if _, err := r.Delete(ctx, p.ID, func(domain.Post) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if _, err := r.ByID(ctx, p.ID); !errors.Is(err, domain.ErrNoPost) {
				t.Fatalf("deleted post readable: %v", err)
			}
			msgs := outboxOf(t, db, p.ID)
			got := types(msgs[2:])
			want := []string{"search-index/" + events.TypeIndexRemove, "domain-events/" + events.TypePostDeleted}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("delete events %v, want %v", got, want)
			}
			var rm events.IndexRemove
			_ = json.Unmarshal(msgs[2].Payload, &rm)
			if rm.Version != 2 {
				t.Fatalf("removal version %d, want 2 (above every upsert)", rm.Version)
			}
			if _, err := r.Delete(ctx, p.ID, func(domain.Post) error { return nil }); !errors.Is(err, domain.ErrNoPost) {
				t.Fatalf("second delete: %v", err)
			}
		})

		t.Run("delete by author", func(t *testing.T) {
			a, b := mkPost(t, r, "zed"), mkPost(t, r, "zed")
			other := mkPost(t, r, "yan")
			ids, err := r.DeleteByAuthor(ctx, "zed")
			if err != nil || len(ids) != 2 {
				t.Fatalf("DeleteByAuthor = %v, %v", ids, err)
			}
			for _, id := range []string{a.ID, b.ID} {
				if _, err := r.ByID(ctx, id); !errors.Is(err, domain.ErrNoPost) {
					t.Fatalf("post %s survived its author", id)
				}
			}
			if _, err := r.ByID(ctx, other.ID); err != nil {
				t.Fatal("another author's post was deleted")
			}
			if ids, _ := r.DeleteByAuthor(ctx, "zed"); len(ids) != 0 {
				t.Fatal("a repeated user.deleted deleted again")
			}
		})

		t.Run("feed and author lists", func(t *testing.T) {
			me, friend, stranger := uuid.NewString(), uuid.NewString(), uuid.NewString()
			mine := mkPost(t, r, me)
			fReady := mkPost(t, r, friend)
			markReady(t, r, fReady.ID)
			fProcessing := mkPost(t, r, friend)
			sReady := mkPost(t, r, stranger)
			markReady(t, r, sReady.ID)

			feed, err := r.Feed(ctx, me, []string{friend}, "", 10)
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			for _, p := range feed {
				ids[p.ID] = true
			}
			if !ids[mine.ID] || !ids[fReady.ID] || ids[fProcessing.ID] || ids[sReady.ID] || len(feed) != 2 {
				t.Fatalf("feed = %v", ids)
			}
			if feed[0].ID != fReady.ID {
				t.Fatal("feed is not newest first")
			}
			own, _ := r.ByAuthor(ctx, friend, true, "", 10)
			public, _ := r.ByAuthor(ctx, friend, false, "", 10)
			if len(own) != 2 || len(public) != 1 {
				t.Fatalf("author lists: own %d, public %d", len(own), len(public))
			}
		})

		t.Run("stale posts are re-requested once per bound", func(t *testing.T) {
			p := mkPost(t, r, "slow")
			stale, err := r.Stale(ctx, time.Now().Add(time.Hour), 100)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, s := range stale {
				found = found || s.ID == p.ID
			}
			if !found {
				t.Fatal("a processing post is not stale after the bound")
			}
			before := len(outboxOf(t, db, p.ID))
			if err := r.Rerequest(ctx, p); err != nil {
				t.Fatal(err)
			}
			if got := len(outboxOf(t, db, p.ID)); got != before+2 {
				t.Fatalf("re-request enqueued %d events, want 2", got-before)
			}
			stale, _ = r.Stale(ctx, time.Now().Add(-time.Minute), 100)
			for _, s := range stale {
				if s.ID == p.ID {
					t.Fatal("a just re-requested post is stale again")
				}
			}
		})
	})
}

// TestPagingUnderConcurrentInserts pages an author's list while new posts
// arrive: every post that existed before paging began appears exactly once.
func TestPagingUnderConcurrentInserts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		r := newRepo(t, db)
		author := uuid.NewString()
		existing := map[string]bool{}
		for range 45 {
			existing[mkPost(t, r, author).ID] = true
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					mkPost(t, r, author)
				}
			}
		}()
		seen := map[string]int{}
		before := ""
		for {
			page, err := r.ByAuthor(ctx, author, true, before, 7)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page {
				seen[p.ID]++
			}
			if len(page) < 7 {
				break
			}
			before = page[len(page)-1].ID
		}
		close(stop)
		wg.Wait()
		for id, n := range seen {
			if n > 1 {
				t.Fatalf("post %s appeared %d times", id, n)
			}
		}
		for id := range existing {
			if seen[id] != 1 {
				t.Fatalf("post %s (present before paging) was skipped", id)
			}
		}
	})
}

func TestCommentCounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		r := newRepo(t, db)
		p := mkPost(t, r, uuid.NewString())
		count := func() int64 {
			got, err := r.ByID(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.CommentCount
		}
		apply := func(comment string, deleted bool) {
			if _, err := r.CountComment(ctx, p.ID, comment, deleted); err != nil {
				t.Fatal(err)
			}
		}
		apply("c1", false)
		apply("c1", false) // duplicate
		apply("c2", false)
		if n := count(); n != 2 {
			t.Fatalf("after two comments (one delivered twice): %d", n)
		}
		apply("c2", true)
		apply("c2", true) // duplicate
		if n := count(); n != 1 {
			t.Fatalf("after deleting one: %d", n)
		}
		apply("c3", true)  // the deletion overtook the creation
		apply("c3", false) // the late creation must not count
		if n := count(); n != 1 {
			t.Fatalf("after an out-of-order pair: %d", n)
		}
		apply("c1", true)
		if n := count(); n != 0 {
			t.Fatalf("count = %d, want 0 (never negative)", n)
		}
	})
}

func TestIdempotencyKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		r := newRepo(t, db)
		author, other := uuid.NewString(), uuid.NewString()
		mk := func(author, key string) error {
			id := uuid.Must(uuid.NewV7()).String()
			p := domain.Post{ID: id, AuthorID: author, Tags: []string{}, Status: domain.StatusProcessing, Version: 1,
				OriginalKey: media.OriginalKey(id), IdempotencyKey: key}
			return r.Create(ctx, &p, 0)
		}
		if err := mk(author, "k1"); err != nil {
			t.Fatal(err)
		}
		if err := mk(author, "k1"); !errors.Is(err, app.ErrDuplicateUpload) {
			t.Fatalf("second upload with the same key: %v", err)
		}
		if err := mk(other, "k1"); err != nil {
			t.Fatalf("keys are per author: %v", err)
		}
		for range 2 {
			if err := mk(author, ""); err != nil {
				t.Fatalf("uploads without a key never collide: %v", err)
			}
		}
		got, err := r.ByIdempotencyKey(ctx, author, "k1")
		if err != nil || got.AuthorID != author || got.IdempotencyKey != "k1" {
			t.Fatalf("ByIdempotencyKey = %+v, %v", got, err)
		}
	})
}
