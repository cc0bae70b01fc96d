package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"

	"pixshare/contracts/media"
	"pixshare/workers/internal/adapters"
	"pixshare/workers/internal/adapters/thumbnail"
	"pixshare/workers/internal/app"
	"pixshare/workers/internal/domain"
)

// meteredRenderer is the real pipeline, recording the budget in use (cost
// plus original, as admitted) by the renders running at once.
type meteredRenderer struct {
	adapters.Renderer
	mu        sync.Mutex
	inUse     int64
	peak      int64
	running   int
	maxAtOnce int
}

func (m *meteredRenderer) Render(ctx context.Context, original []byte, emit func(domain.Rendition)) error {
	cost, err := m.Cost(original)
	if err != nil {
		return err
	}
	cost += int64(len(original))
	m.mu.Lock()
	m.inUse += cost
	m.running++
	m.peak = max(m.peak, m.inUse)
	m.maxAtOnce = max(m.maxAtOnce, m.running)
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.inUse -= cost
		m.running--
		m.mu.Unlock()
	}()
	return m.Renderer.Render(ctx, original, emit)
}

// TestDecodesAreAdmittedByCost: with a budget that holds two pictures'
// costs, eight requests delivered at once all finish, and the renders
// running together never need more than the budget.
func TestDecodesAreAdmittedByCost(t *testing.T) {
	posts := &fakePosts{posts: map[string]*domain.Post{}}
	store := &memStore{blobs: map[string][]byte{}}
	r := &meteredRenderer{Renderer: adapters.NewRenderer(thumbnail.Options{Quality: 85, MaxPixels: 40e6})}
	photo := fixture(t, "landscape.jpg")
	cost, err := r.Cost(photo)
	if err != nil {
		t.Fatal(err)
	}
	budget := 2*(cost+int64(len(photo))) + cost/2
	w := app.NewThumbnailer(posts, nil, store, r, r, newAttempts(t),
		app.Options{MemoryBudget: budget, FetchReserve: int64(len(photo)), MaxAttempts: 3}, zap.NewNop())
	const n = 8
	for i := range n {
		id := fmt.Sprintf("p%d", i)
		posts.posts[id] = &domain.Post{ID: id, Version: 1}
		store.blobs[media.OriginalKey(id)] = photo
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = w.Make(context.Background(), request(fmt.Sprintf("p%d", i), 1)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("p%d: %v", i, err)
		}
	}
	if posts.ready != n {
		t.Fatalf("%d of %d posts made", posts.ready, n)
	}
	if r.peak > budget {
		t.Fatalf("renders running together needed %d bytes, over the %d budget", r.peak, budget)
	}
	if r.maxAtOnce > 2 {
		t.Fatalf("%d renders ran at once; the budget holds 2", r.maxAtOnce)
	}
}

// TestPictureOverTheWholeBudgetFailsForGood: a picture whose cost exceeds
// the budget can never be admitted, so its post is failed with the reason
// (not retried forever).
func TestPictureOverTheWholeBudgetFailsForGood(t *testing.T) {
	posts := &fakePosts{posts: map[string]*domain.Post{"p1": {ID: "p1", Version: 1}}}
	store := &memStore{blobs: map[string][]byte{media.OriginalKey("p1"): fixture(t, "landscape.jpg")}}
	r := adapters.NewRenderer(thumbnail.Options{Quality: 85, MaxPixels: 40e6})
	w := app.NewThumbnailer(posts, nil, store, r, r, newAttempts(t),
		app.Options{MemoryBudget: 2 << 20, FetchReserve: 1 << 20, MaxAttempts: 3}, zap.NewNop())
	err := w.Make(context.Background(), request("p1", 1))
	if !errors.Is(err, app.ErrPermanent) {
		t.Fatalf("want a permanent error, got %v", err)
	}
	if len(posts.reasons) != 1 || !strings.Contains(posts.reasons[0], "memory budget") {
		t.Fatalf("failure reasons: %q", posts.reasons)
	}
}

// panickyRenderer panics on every render, as a decoder bug would.
type panickyRenderer struct{ adapters.Renderer }

func (panickyRenderer) Render(context.Context, []byte, func(domain.Rendition)) error {
	panic("decoder bug")
}

// TestCrashesAreCountedAcrossRestarts: each attempt is recorded in the
// database before the work, so attempts that crash add up across
// thumbnailer instances (a new one stands for the restarted process);
// transient failures do not count; after MaxAttempts crashes the post is
// failed with a reason and the request is permanent (dead-lettered).
func TestCrashesAreCountedAcrossRestarts(t *testing.T) {
	posts := &fakePosts{posts: map[string]*domain.Post{"p1": {ID: "p1", Version: 1}}}
	store := &memStore{blobs: map[string][]byte{}}
	a := newAttempts(t)
	r := panickyRenderer{adapters.NewRenderer(thumbnail.Options{Quality: 85, MaxPixels: 40e6})}
	opts := app.Options{MemoryBudget: 512 << 20, FetchReserve: 20 << 20, MaxAttempts: 2}
	ctx := context.Background()

	// The original is missing for a moment (storage outage): retried, not
	// counted.
	failing := app.NewThumbnailer(posts, nil, &failingStore{}, r, r, a, opts, zap.NewNop())
	for range 3 {
		if err := failing.Make(ctx, request("p1", 1)); err == nil || errors.Is(err, app.ErrPermanent) {
			t.Fatalf("an outage: %v", err)
		}
	}
	if n, _ := a.Count(ctx, "post:p1:1"); n != 0 {
		t.Fatalf("transient failures counted as %d crashes", n)
	}

	store.blobs[media.OriginalKey("p1")] = fixture(t, "landscape.jpg")
	for i := 1; i <= 2; i++ {
		w := app.NewThumbnailer(posts, nil, store, r, r, a, opts, zap.NewNop())
		err := w.Make(ctx, request("p1", 1))
		if err == nil || errors.Is(err, app.ErrPermanent) {
			t.Fatalf("crash %d: want an error to retry, got %v", i, err)
		}
		if n, _ := a.Count(ctx, "post:p1:1"); n != i {
			t.Fatalf("after crash %d the count is %d", i, n)
		}
	}
	w := app.NewThumbnailer(posts, nil, store, r, r, a, opts, zap.NewNop())
	if err := w.Make(ctx, request("p1", 1)); !errors.Is(err, app.ErrPermanent) {
		t.Fatalf("third delivery: want a permanent error, got %v", err)
	}
	if len(posts.reasons) != 1 || !strings.Contains(posts.reasons[0], "crashed the thumbnailer 2 times") {
		t.Fatalf("failure reasons: %q", posts.reasons)
	}
	if n, _ := a.Count(ctx, "post:p1:1"); n != 0 {
		t.Fatalf("a given-up request left %d attempts", n)
	}
}
