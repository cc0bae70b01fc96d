package app_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"go.uber.org/zap"

	"pixshare/contracts/media"
	"pixshare/platform/apperror"
	"pixshare/platform/blob"
	"pixshare/platform/daprtest"
	"pixshare/platform/database/dbtest"
	"pixshare/workers/internal/adapters"
	"pixshare/workers/internal/adapters/attempts"
	"pixshare/workers/internal/adapters/thumbnail"
	"pixshare/workers/internal/app"
	"pixshare/workers/internal/domain"
)

// fakePosts is a hand-written fake of the post service's gRPC API.
type fakePosts struct {
	mu      sync.Mutex
	posts   map[string]*domain.Post
	ready   int
	bytes   map[string]int64 // of the last report
	failed  []string
	reasons []string
}

func (f *fakePosts) Get(_ context.Context, id string) (domain.Post, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.posts[id]
	if !ok {
		return domain.Post{}, apperror.NotFoundf("post not found")
	}
	return *p, nil
}

func (f *fakePosts) MarkThumbnailReady(_ context.Context, id string, _ int64, _, _ int, renditionBytes map[string]int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ready++
	f.posts[id].ThumbnailReady = true
	f.bytes = renditionBytes
	return nil
}

func (f *fakePosts) MarkFailed(_ context.Context, id string, _ int64, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = append(f.failed, id)
	f.reasons = append(f.reasons, reason)
	return nil
}

// memStore is a hand-written blob.Store that counts writes and deletes
// and keeps the size hint of each read.
type memStore struct {
	mu      sync.Mutex
	blobs   map[string][]byte
	hints   map[string]int64
	writes  int
	deletes int
}

func (m *memStore) Put(_ context.Context, k string, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	m.blobs[k] = b
	return nil
}

func (m *memStore) Get(_ context.Context, k string, sizeHint int64) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hints == nil {
		m.hints = map[string]int64{}
	}
	m.hints[k] = sizeHint
	b, ok := m.blobs[k]
	if !ok {
		return nil, blob.ErrNotFound
	}
	return b, nil
}

func (m *memStore) Delete(_ context.Context, k string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deletes++
	delete(m.blobs, k)
	return nil
}

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

func request(id string, version int64) domain.Request {
	return domain.Request{PostID: id, Version: version, OriginalKey: media.OriginalKey(id)}
}

func setup(t *testing.T, images app.Images) (*app.Thumbnailer, *fakePosts, *memStore) {
	t.Helper()
	posts := &fakePosts{posts: map[string]*domain.Post{}}
	store := &memStore{blobs: map[string][]byte{}}
	if images == nil {
		images = store
	}
	r := adapters.NewRenderer(thumbnail.Options{Quality: 85, MaxPixels: 40e6})
	return app.NewThumbnailer(posts, nil, images, r, r, newAttempts(t), defaultOptions, zap.NewNop()), posts, store
}

// defaultOptions are the production defaults.
var defaultOptions = app.Options{MemoryBudget: 512 << 20, FetchReserve: 20 << 20, MaxAttempts: 3}

// newAttempts is the real attempts store on a fresh SQLite database.
func newAttempts(t *testing.T) *attempts.Store {
	t.Helper()
	db := dbtest.SQLite(t)
	if err := attempts.Migrate(db); err != nil {
		t.Fatal(err)
	}
	return attempts.New(db)
}

// The original is read with the length post recorded for it, so that it
// lands in a buffer of its size.
func TestOriginalIsReadWithItsLength(t *testing.T) {
	w, posts, store := setup(t, nil)
	posts.posts["p1"] = &domain.Post{ID: "p1", Version: 1}
	original := fixture(t, "landscape.jpg")
	store.blobs[media.OriginalKey("p1")] = original
	req := request("p1", 1)
	req.OriginalBytes = int64(len(original))
	if err := w.Make(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got := store.hints[media.OriginalKey("p1")]; got != int64(len(original)) {
		t.Fatalf("the original was read with a size hint of %d, want %d", got, len(original))
	}
}

func TestDuplicateDeliveryChangesNothing(t *testing.T) {
	w, posts, store := setup(t, nil)
	posts.posts["p1"] = &domain.Post{ID: "p1", Version: 1}
	store.blobs[media.OriginalKey("p1")] = fixture(t, "landscape.jpg")
	ctx := context.Background()
	if err := w.Make(ctx, request("p1", 1)); err != nil {
		t.Fatal(err)
	}
	writes := store.writes
	if writes != len(media.Sizes()) || posts.ready != 1 {
		t.Fatalf("first delivery: %d writes, %d reports", writes, posts.ready)
	}
	for _, size := range media.Sizes() {
		b, ok := store.blobs[media.RenditionKey("p1", size)]
		if !ok {
			t.Fatalf("size %s missing", size)
		}
		// The report names the bytes stored of each (post answers
		// with them as Content-Length).
		if posts.bytes[size] != int64(len(b)) {
			t.Fatalf("reported %d bytes of %s, stored %d", posts.bytes[size], size, len(b))
		}
	}
	if len(posts.bytes) != len(media.Sizes()) {
		t.Fatalf("reported bytes of %v, want every size", posts.bytes)
	}
	if err := w.Make(ctx, request("p1", 1)); err != nil {
		t.Fatal(err)
	}
	if store.writes != writes || posts.ready != 1 {
		t.Fatalf("a duplicate delivery wrote %d more blobs and reported %d more times", store.writes-writes, posts.ready-1)
	}
}

func TestOlderVersionAndDeletedPostAreSkipped(t *testing.T) {
	w, posts, store := setup(t, nil)
	posts.posts["p1"] = &domain.Post{ID: "p1", Version: 3}
	store.blobs[media.OriginalKey("p1")] = fixture(t, "landscape.jpg")
	ctx := context.Background()
	if err := w.Make(ctx, request("p1", 2)); err != nil {
		t.Fatal(err)
	}
	if err := w.Make(ctx, request("gone", 1)); err != nil {
		t.Fatal(err)
	}
	if store.writes != 0 || posts.ready != 0 {
		t.Fatalf("skipped requests did work: %d writes", store.writes)
	}
	if err := w.Make(ctx, request("p1", 3)); err != nil || posts.ready != 1 {
		t.Fatalf("the current version was not processed: %v", err)
	}
}

func TestCorruptImageIsPoisonAndReported(t *testing.T) {
	w, posts, store := setup(t, nil)
	posts.posts["p1"] = &domain.Post{ID: "p1", Version: 1}
	store.blobs[media.OriginalKey("p1")] = fixture(t, "corrupt.jpg")
	posts.posts["p2"] = &domain.Post{ID: "p2", Version: 1} // original missing
	ctx := context.Background()
	for _, id := range []string{"p1", "p2"} {
		err := w.Make(ctx, request(id, 1))
		if !errors.Is(err, app.ErrPermanent) {
			t.Fatalf("%s: want a permanent error, got %v", id, err)
		}
	}
	if len(posts.failed) != 2 || store.writes != 0 {
		t.Fatalf("failures reported: %v, writes %d", posts.failed, store.writes)
	}
}

func TestTransientErrorsAreRetried(t *testing.T) {
	w, posts, _ := setup(t, &failingStore{})
	posts.posts["p1"] = &domain.Post{ID: "p1", Version: 1}
	err := w.Make(context.Background(), request("p1", 1))
	if err == nil || errors.Is(err, app.ErrPermanent) {
		t.Fatalf("a storage outage must be retried, got %v", err)
	}
	if len(posts.failed) != 0 {
		t.Fatal("a storage outage marked the post failed")
	}
}

type failingStore struct{ memStore }

func (*failingStore) Get(context.Context, string, int64) ([]byte, error) {
	return nil, apperror.Wrap(apperror.Unavailable, errors.New("connection refused"), "image storage unavailable")
}

// fakeAvatars is a hand-written app.Avatars.
type fakeAvatars struct {
	mu            sync.Mutex
	ready, failed []int64
}

func (f *fakeAvatars) MarkReady(_ context.Context, _ string, v int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ready = append(f.ready, v)
	return nil
}

func (f *fakeAvatars) MarkFailed(_ context.Context, _ string, v int64, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = append(f.failed, v)
	return nil
}

func TestAvatarSizesAreSquareAndReported(t *testing.T) {
	store := &memStore{blobs: map[string][]byte{}}
	av := &fakeAvatars{}
	r := adapters.NewRenderer(thumbnail.Options{Quality: 85, MaxPixels: 40e6})
	w := app.NewThumbnailer(&fakePosts{posts: map[string]*domain.Post{}}, av, store, r, r, newAttempts(t), defaultOptions, zap.NewNop())
	store.blobs[media.AvatarUploadKey("u1", 7)] = fixture(t, "portrait-exif6.jpg")
	store.blobs[media.AvatarUploadKey("u1", 8)] = fixture(t, "corrupt.jpg")
	ctx := context.Background()
	if err := w.MakeAvatar(ctx, domain.AvatarRequest{UserID: "u1", Version: 7, OriginalKey: media.AvatarUploadKey("u1", 7)}); err != nil {
		t.Fatal(err)
	}
	for _, size := range media.AvatarSizes() {
		b, ok := store.blobs[media.AvatarKey("u1", 7, size)]
		if !ok {
			t.Fatalf("avatar size %s missing", size)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width != cfg.Height {
			t.Fatalf("avatar %s is %dx%d (%v), want a square JPEG", size, cfg.Width, cfg.Height, err)
		}
	}
	if len(av.ready) != 1 || av.ready[0] != 7 {
		t.Fatalf("reports: %v", av.ready)
	}
	err := w.MakeAvatar(ctx, domain.AvatarRequest{UserID: "u1", Version: 8, OriginalKey: media.AvatarUploadKey("u1", 8)})
	if !errors.Is(err, app.ErrPermanent) || len(av.failed) != 1 {
		t.Fatalf("a corrupt avatar: %v, failures reported %v", err, av.failed)
	}
}
