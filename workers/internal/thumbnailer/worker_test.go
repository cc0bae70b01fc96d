package thumbnailer

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"pixshare/platform/apperror"
	"pixshare/platform/blob"
	"pixshare/platform/daprtest"
	"pixshare/platform/events"
	postevents "pixshare/post/events"
	postv1 "pixshare/proto/post/v1"
	"pixshare/workers/internal/thumbnail"
)

// fakePosts is a hand-written fake of the post service's gRPC API.
type fakePosts struct {
	mu     sync.Mutex
	posts  map[string]*postv1.Post
	ready  int
	failed []string
}

func (f *fakePosts) GetPost(_ context.Context, id string) (*postv1.Post, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.posts[id]
	if !ok {
		return nil, apperror.NotFoundf("post not found")
	}
	return proto.Clone(p).(*postv1.Post), nil
}

func (f *fakePosts) MarkThumbnailReady(_ context.Context, id string, _ int64, _, _ int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ready++
	f.posts[id].ThumbnailReady = true
	return nil
}

func (f *fakePosts) MarkFailed(_ context.Context, id string, _ int64, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = append(f.failed, id)
	return nil
}

// memStore is a hand-written blob.Store that counts writes.
type memStore struct {
	mu     sync.Mutex
	blobs  map[string][]byte
	writes int
}

func (m *memStore) Put(_ context.Context, k string, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	m.blobs[k] = b
	return nil
}

func (m *memStore) Get(_ context.Context, k string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[k]
	if !ok {
		return nil, blob.ErrNotFound
	}
	return b, nil
}

func (m *memStore) Delete(_ context.Context, k string) error { return nil }

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	root, err := daprtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "testdata", "photos", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func request(t *testing.T, id string, version int64) events.Event {
	t.Helper()
	b, _ := json.Marshal(postevents.ThumbnailRequested{PostID: id, AuthorID: "a", Version: version, OriginalKey: postevents.OriginalKey(id)})
	return events.Event{Type: postevents.TypeThumbnailRequested, Data: b}
}

func setup(t *testing.T) (*Worker, *fakePosts, *memStore) {
	t.Helper()
	posts := &fakePosts{posts: map[string]*postv1.Post{}}
	store := &memStore{blobs: map[string][]byte{}}
	return NewWorker(posts, store, thumbnail.Options{Quality: 85, MaxPixels: 40e6}, 2, zap.NewNop()), posts, store
}

func TestDuplicateDeliveryChangesNothing(t *testing.T) {
	w, posts, store := setup(t)
	posts.posts["p1"] = &postv1.Post{Id: "p1", Version: 1}
	store.blobs[postevents.OriginalKey("p1")] = fixture(t, "landscape.jpg")
	ctx := context.Background()
	if err := w.Handle(ctx, request(t, "p1", 1)); err != nil {
		t.Fatal(err)
	}
	writes := store.writes
	if writes != len(postevents.Sizes) || posts.ready != 1 {
		t.Fatalf("first delivery: %d writes, %d reports", writes, posts.ready)
	}
	for _, size := range postevents.Sizes {
		if _, ok := store.blobs[postevents.RenditionKey("p1", size)]; !ok {
			t.Fatalf("size %s missing", size)
		}
	}
	if err := w.Handle(ctx, request(t, "p1", 1)); err != nil {
		t.Fatal(err)
	}
	if store.writes != writes || posts.ready != 1 {
		t.Fatalf("a duplicate delivery wrote %d more blobs and reported %d more times", store.writes-writes, posts.ready-1)
	}
}

func TestOlderVersionAndDeletedPostAreSkipped(t *testing.T) {
	w, posts, store := setup(t)
	posts.posts["p1"] = &postv1.Post{Id: "p1", Version: 3}
	store.blobs[postevents.OriginalKey("p1")] = fixture(t, "landscape.jpg")
	ctx := context.Background()
	if err := w.Handle(ctx, request(t, "p1", 2)); err != nil {
		t.Fatal(err)
	}
	if err := w.Handle(ctx, request(t, "gone", 1)); err != nil {
		t.Fatal(err)
	}
	if store.writes != 0 || posts.ready != 0 {
		t.Fatalf("skipped requests did work: %d writes", store.writes)
	}
	if err := w.Handle(ctx, request(t, "p1", 3)); err != nil || posts.ready != 1 {
		t.Fatalf("the current version was not processed: %v", err)
	}
}

func TestCorruptImageIsPoisonAndReported(t *testing.T) {
	w, posts, store := setup(t)
	posts.posts["p1"] = &postv1.Post{Id: "p1", Version: 1}
	store.blobs[postevents.OriginalKey("p1")] = fixture(t, "corrupt.jpg")
	posts.posts["p2"] = &postv1.Post{Id: "p2", Version: 1} // original missing
	ctx := context.Background()
	for _, id := range []string{"p1", "p2"} {
		err := w.Handle(ctx, request(t, id, 1))
		if !events.IsPoison(err) {
			t.Fatalf("%s: want poison, got %v", id, err)
		}
	}
	if len(posts.failed) != 2 || store.writes != 0 {
		t.Fatalf("failures reported: %v, writes %d", posts.failed, store.writes)
	}
	if err := w.Handle(ctx, events.Event{Data: []byte("{")}); !events.IsPoison(err) {
		t.Fatalf("undecodable event: %v", err)
	}
}

func TestTransientErrorsAreRetried(t *testing.T) {
	w, posts, _ := setup(t)
	posts.posts["p1"] = &postv1.Post{Id: "p1", Version: 1}
	w.images = &failingStore{}
	err := w.Handle(context.Background(), request(t, "p1", 1))
	if err == nil || events.IsPoison(err) {
		t.Fatalf("a storage outage must be retried, got %v", err)
	}
	if len(posts.failed) != 0 {
		t.Fatal("a storage outage marked the post failed")
	}
}

type failingStore struct{ memStore }

func (*failingStore) Get(context.Context, string) ([]byte, error) {
	return nil, apperror.Wrap(apperror.Unavailable, errors.New("connection refused"), "image storage unavailable")
}
