package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"pixshare/contracts/media"
	"pixshare/platform/apperror"
	"pixshare/workers/internal/adapters"
	"pixshare/workers/internal/adapters/thumbnail"
	"pixshare/workers/internal/app"
	"pixshare/workers/internal/domain"
)

// watchedStore is a memStore that closes put once the blob under key has
// been written, and whose write of key first waits for release (when
// set): a test can see a store happen, or hold it in flight.
type watchedStore struct {
	memStore
	key     string
	release chan struct{}
	put     chan struct{}
	once    sync.Once
}

func newWatchedStore(key string) *watchedStore {
	return &watchedStore{memStore: memStore{blobs: map[string][]byte{}}, key: key, put: make(chan struct{})}
}

func (w *watchedStore) Put(ctx context.Context, k string, b []byte) error {
	if k == w.key && w.release != nil {
		<-w.release
	}
	if err := w.memStore.Put(ctx, k, b); err != nil {
		return err
	}
	if k == w.key {
		w.once.Do(func() { close(w.put) })
	}
	return nil
}

// scriptedRenderer renders as the test's render function says, with the
// real pipeline's Cost for admitting the picture.
type scriptedRenderer struct {
	adapters.Renderer
	render func(ctx context.Context, emit func(domain.Rendition)) error
}

func (s scriptedRenderer) Render(ctx context.Context, _ []byte, emit func(domain.Rendition)) error {
	return s.render(ctx, emit)
}

func rendition(name string) domain.Rendition {
	return domain.Rendition{Name: name, Width: 4, Height: 3, JPEG: []byte("jpeg of " + name)}
}

// patience bounds a wait that only a bug makes long; the tests assert
// what happens, never how long it took.
const patience = 10 * time.Second

// TestOriginalIsStoredWhileRendering: the clean original is written as
// soon as Render hands it over, not when Render returns. The renderer
// emits the original and then waits until the store has written it
// before making the sizes; a thumbnailer that stored only after Render
// returned would never get there.
func TestOriginalIsStoredWhileRendering(t *testing.T) {
	posts := &fakePosts{posts: map[string]*domain.Post{"p1": {ID: "p1", Version: 1}}}
	store := newWatchedStore(media.RenditionKey("p1", media.SizeOriginal))
	store.blobs[media.OriginalKey("p1")] = fixture(t, "landscape.jpg")
	r := scriptedRenderer{Renderer: adapters.NewRenderer(thumbnail.Options{Quality: 85, MaxPixels: 40e6})}
	r.render = func(_ context.Context, emit func(domain.Rendition)) error {
		emit(rendition(media.SizeOriginal))
		select {
		case <-store.put:
		case <-time.After(patience):
			return errors.New("the original was not stored while rendering went on")
		}
		for _, size := range []string{media.SizeThumb, media.SizeSmall, media.SizeMedium, media.SizeLarge} {
			emit(rendition(size))
		}
		return nil
	}
	w := app.NewThumbnailer(posts, nil, store, r, r, newAttempts(t), defaultOptions, zap.NewNop())
	if err := w.Make(context.Background(), request("p1", 1)); err != nil {
		t.Fatal(err)
	}
	if posts.ready != 1 {
		t.Fatalf("%d reports, want 1", posts.ready)
	}
	for _, size := range media.Sizes() {
		if _, ok := store.blobs[media.RenditionKey("p1", size)]; !ok {
			t.Errorf("size %s not stored", size)
		}
	}
}

// TestUnprocessableAfterEmittingDeletesWhatWasStored: a picture whose
// original was handed over (a JPEG's strip succeeds) and whose decode
// then fails leaves no blob behind and is reported failed. The store of
// the original is still in flight when Render fails, so deleting must
// wait for it.
func TestUnprocessableAfterEmittingDeletesWhatWasStored(t *testing.T) {
	posts := &fakePosts{posts: map[string]*domain.Post{"p1": {ID: "p1", Version: 1}}}
	key := media.RenditionKey("p1", media.SizeOriginal)
	store := newWatchedStore(key)
	store.release = make(chan struct{})
	store.blobs[media.OriginalKey("p1")] = fixture(t, "landscape.jpg")
	r := scriptedRenderer{Renderer: adapters.NewRenderer(thumbnail.Options{Quality: 85, MaxPixels: 40e6})}
	r.render = func(_ context.Context, emit func(domain.Rendition)) error {
		emit(rendition(media.SizeOriginal))
		// Let the store finish a little after Render returned: a
		// thumbnailer that deleted at once would delete first, and the
		// write would land after it. (The pause only makes that bug
		// show; nothing is asserted about time.)
		go func() {
			time.Sleep(50 * time.Millisecond)
			close(store.release)
		}()
		return fmt.Errorf("making thumbnails: decoding jpeg: short Huffman data: %w", media.ErrCorrupt)
	}
	w := app.NewThumbnailer(posts, nil, store, r, r, newAttempts(t), defaultOptions, zap.NewNop())
	err := w.Make(context.Background(), request("p1", 1))
	if !errors.Is(err, app.ErrPermanent) {
		t.Fatalf("want a permanent error, got %v", err)
	}
	select {
	case <-store.put:
	default:
		t.Fatal("Make returned before the original's store finished")
	}
	if len(posts.failed) != 1 || posts.ready != 0 {
		t.Fatalf("failures reported %v, ready reports %d", posts.failed, posts.ready)
	}
	if _, ok := store.blobs[key]; ok {
		t.Fatal("the stored original of an unprocessable picture was left behind")
	}
	if len(store.blobs) != 1 {
		t.Fatalf("blobs left: %d, want only the upload", len(store.blobs))
	}
}

// putFailingStore is a memStore whose writes all fail, as in an outage.
type putFailingStore struct{ memStore }

func (*putFailingStore) Put(context.Context, string, []byte) error {
	return apperror.Wrap(apperror.Unavailable, errors.New("connection refused"), "image storage unavailable")
}

// TestFailedStoreStopsRenderingAndIsRetried: a store that fails while the
// rest is still being made cancels the rendering (nothing can be
// reported anyway); the attempt fails with the store's error, to retry,
// and nothing is reported.
func TestFailedStoreStopsRenderingAndIsRetried(t *testing.T) {
	posts := &fakePosts{posts: map[string]*domain.Post{"p1": {ID: "p1", Version: 1}}}
	store := &putFailingStore{memStore{blobs: map[string][]byte{media.OriginalKey("p1"): fixture(t, "landscape.jpg")}}}
	r := scriptedRenderer{Renderer: adapters.NewRenderer(thumbnail.Options{Quality: 85, MaxPixels: 40e6})}
	r.render = func(ctx context.Context, emit func(domain.Rendition)) error {
		emit(rendition(media.SizeOriginal))
		select {
		case <-ctx.Done():
			return fmt.Errorf("making thumbnails: %w", ctx.Err())
		case <-time.After(patience):
			return errors.New("rendering went on after a store failed")
		}
	}
	w := app.NewThumbnailer(posts, nil, store, r, r, newAttempts(t), defaultOptions, zap.NewNop())
	err := w.Make(context.Background(), request("p1", 1))
	if err == nil || errors.Is(err, app.ErrPermanent) || !apperror.Is(err, apperror.Unavailable) {
		t.Fatalf("want the store's error, to retry; got %v", err)
	}
	if posts.ready != 0 || len(posts.failed) != 0 {
		t.Fatalf("a failed store was reported: %d ready, failed %v", posts.ready, posts.failed)
	}
}

// TestGivingUpDeletesWhatCrashedAttemptsStored: an attempt that crashes
// after the original was stored (as an out-of-memory kill in the decode
// would) leaves it behind; when the work is given up, the post is failed
// with none of its renditions kept.
func TestGivingUpDeletesWhatCrashedAttemptsStored(t *testing.T) {
	posts := &fakePosts{posts: map[string]*domain.Post{"p1": {ID: "p1", Version: 1}}}
	key := media.RenditionKey("p1", media.SizeOriginal)
	store := newWatchedStore(key)
	store.blobs[media.OriginalKey("p1")] = fixture(t, "landscape.jpg")
	r := scriptedRenderer{Renderer: adapters.NewRenderer(thumbnail.Options{Quality: 85, MaxPixels: 40e6})}
	r.render = func(_ context.Context, emit func(domain.Rendition)) error {
		emit(rendition(media.SizeOriginal))
		<-store.put
		panic("decoder bug")
	}
	opts := defaultOptions
	opts.MaxAttempts = 1
	w := app.NewThumbnailer(posts, nil, store, r, r, newAttempts(t), opts, zap.NewNop())
	ctx := context.Background()
	if err := w.Make(ctx, request("p1", 1)); err == nil || errors.Is(err, app.ErrPermanent) {
		t.Fatalf("a crash: want an error to retry, got %v", err)
	}
	if _, ok := store.blobs[key]; !ok {
		t.Fatal("the crashed attempt did not store the original; the test proves nothing")
	}
	if err := w.Make(ctx, request("p1", 1)); !errors.Is(err, app.ErrPermanent) {
		t.Fatalf("after MaxAttempts crashes: want a permanent error, got %v", err)
	}
	if len(posts.failed) != 1 {
		t.Fatalf("failures reported: %v", posts.failed)
	}
	if len(store.blobs) != 1 {
		t.Fatalf("blobs left: %d, want only the upload", len(store.blobs))
	}
}
