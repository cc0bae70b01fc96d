package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"pixshare/contracts/events"
	"pixshare/platform/apperror"
	"pixshare/platform/database/dbtest"
	"pixshare/platform/pubsub"
	postv1 "pixshare/proto/post/v1"
	"pixshare/search/internal/adapters/sqlengine"
	"pixshare/search/internal/app"
	"pixshare/search/internal/domain"
)

// posts is a hand-written fake of the post service's gRPC API.
type posts struct {
	mu      sync.Mutex
	marked  map[string]int64
	missing map[string]bool
	listing []*postv1.Post
}

func (p *posts) MarkIndexed(_ context.Context, id string, v int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.missing[id] {
		return apperror.NotFoundf("post not found")
	}
	p.marked[id] = max(p.marked[id], v)
	return nil
}

func (p *posts) ListPosts(_ context.Context, size int32, token string) ([]*postv1.Post, string, error) {
	start := 0
	for i, post := range p.listing {
		if post.GetId() == token {
			start = i + 1
		}
	}
	end := min(start+int(size), len(p.listing))
	next := ""
	if end < len(p.listing) {
		next = p.listing[end-1].GetId()
	}
	return p.listing[start:end], next, nil
}

func newIndexer(t *testing.T) (*app.Indexer, *sqlengine.Engine, *posts) {
	t.Helper()
	db := dbtest.SQLite(t)
	if err := sqlengine.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	e := sqlengine.New(db)
	p := &posts{marked: map[string]int64{}, missing: map[string]bool{}}
	return app.NewIndexer(e, p, zap.NewNop()), e, p
}

func upsertDoc(v int64, caption string) domain.Doc {
	return domain.Doc{PostID: "p1", AuthorID: "a", Caption: caption, Tags: []string{"t"}, Version: v,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
}

func TestDuplicatesAndReorderings(t *testing.T) {
	ix, e, p := newIndexer(t)
	ctx := context.Background()
	for _, doc := range []domain.Doc{upsertDoc(2, "second"), upsertDoc(1, "first"), upsertDoc(2, "second"), upsertDoc(1, "first")} {
		if err := ix.Upsert(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	d, ok, _ := e.Get(ctx, "p1")
	if !ok || d.Caption != "second" || p.marked["p1"] != 2 {
		t.Fatalf("doc %+v, marked %d", d, p.marked["p1"])
	}
	if err := ix.Remove(ctx, "p1", 3); err != nil {
		t.Fatal(err)
	}
	if err := ix.Upsert(ctx, upsertDoc(2, "second")); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := e.Get(ctx, "p1"); ok {
		t.Fatal("a late upsert resurrected a removed post")
	}
}

func TestDeletedPostIsNotAnError(t *testing.T) {
	ix, _, p := newIndexer(t)
	p.missing["p1"] = true
	if err := ix.Upsert(context.Background(), upsertDoc(1, "x")); err != nil {
		t.Fatalf("a post deleted while indexing must not be retried: %v", err)
	}
}

func TestReindexRebuildsFromPosts(t *testing.T) {
	ix, e, p := newIndexer(t)
	ctx := context.Background()
	// The model holds a post the listing no longer has, and misses two.
	if _, err := e.Upsert(ctx, domain.Doc{PostID: "gone", AuthorID: "a", Tags: []string{"t"}, Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	for _, id := range []string{"p1", "p2", "p3"} {
		p.listing = append(p.listing, &postv1.Post{Id: id, AuthorId: "a", Caption: "c " + id, Tags: []string{"t"}, Version: 1, CreatedAt: now, UpdatedAt: now})
	}
	n, err := ix.Reindex(ctx)
	if err != nil || n != 3 {
		t.Fatalf("reindex: %d, %v", n, err)
	}
	res, err := e.Search(ctx, domain.Query{Tags: []string{"t"}, Limit: 10})
	if err != nil || res.Total != 3 {
		t.Fatalf("after reindex: %d docs, %v", res.Total, err)
	}
	if _, ok, _ := e.Get(ctx, "gone"); ok {
		t.Fatal("reindex kept a post the post service does not have")
	}
}

// TestAbsurdVersionsArePoison: an index change at a version no post can
// have is refused as poison (dead-lettered) and changes nothing, so a forged
// tombstone at 2^62 cannot bury a post that later upserts or a re-index
// would bring back.
func TestAbsurdVersionsArePoison(t *testing.T) {
	ix, e, p := newIndexer(t)
	ctx := context.Background()
	if err := ix.Upsert(ctx, upsertDoc(1, "first")); err != nil {
		t.Fatal(err)
	}
	for _, v := range []int64{1 << 62, events.MaxPostVersion + 1, 0, -1} {
		if err := ix.Remove(ctx, "p1", v); !pubsub.IsPoison(err) {
			t.Errorf("removal at %d: %v, want poison", v, err)
		}
		if err := ix.Upsert(ctx, upsertDoc(v, "forged")); !pubsub.IsPoison(err) {
			t.Errorf("upsert at %d: %v, want poison", v, err)
		}
	}
	if err := ix.Upsert(ctx, upsertDoc(2, "second")); err != nil {
		t.Fatal(err)
	}
	d, ok, _ := e.Get(ctx, "p1")
	if !ok || d.Caption != "second" || d.Version != 2 || p.marked["p1"] != 2 {
		t.Fatalf("after the refused changes: doc %+v (found %v), marked %d", d, ok, p.marked["p1"])
	}
	// The highest real version is still a valid tombstone.
	if err := ix.Remove(ctx, "p1", events.MaxPostVersion); err != nil {
		t.Fatal(err)
	}
}
