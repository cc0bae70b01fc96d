package userclient

import (
	"context"
	"sync"
	"testing"

	"google.golang.org/grpc"

	"pixshare/platform/cache"
	"pixshare/platform/cache/cachetest"
	userv1 "pixshare/proto/user/v1"
)

// fakeGraph is a hand-written GraphServiceClient that counts calls; the
// user service itself is exercised by the e2e suites.
type fakeGraph struct {
	userv1.GraphServiceClient
	mu      sync.Mutex
	calls   int
	blocked bool
}

func (f *fakeGraph) IsBlocked(context.Context, *userv1.IsBlockedRequest, ...grpc.CallOption) (*userv1.IsBlockedResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return &userv1.IsBlockedResponse{Blocked: f.blocked}, nil
}

func (f *fakeGraph) ListFollowing(context.Context, *userv1.ListFollowingRequest, ...grpc.CallOption) (*userv1.ListFollowingResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return &userv1.ListFollowingResponse{UserIds: []string{"b", "c"}}, nil
}

func TestHotAnswersAreCheckedOncePerRequest(t *testing.T) {
	t.Parallel()
	rpc, stamps := &fakeGraph{blocked: true}, &cachetest.Stamps{}
	c := NewGraph(rpc, stamps, GraphConfig{MaxFollowing: 10})
	for range 5 {
		ctx := cache.WithLedger(context.Background(), stamps)
		for range 3 {
			blocked, err := c.IsBlocked(ctx, "a", "b")
			if err != nil || !blocked {
				t.Fatalf("IsBlocked = %v, %v; want true", blocked, err)
			}
		}
	}
	if rpc.calls != 1 || stamps.Reads() != 5 {
		t.Fatalf("%d calls to user and %d stamp reads for 5 requests, want 1 and 5", rpc.calls, stamps.Reads())
	}
}

func TestBlockShowsOnTheNextRequest(t *testing.T) {
	t.Parallel()
	rpc, stamps := &fakeGraph{}, &cachetest.Stamps{}
	c := NewGraph(rpc, stamps, GraphConfig{MaxFollowing: 10})
	ask := func() bool {
		blocked, err := c.IsBlocked(cache.WithLedger(context.Background(), stamps), "a", "b")
		if err != nil {
			t.Fatal(err)
		}
		return blocked
	}
	if ask() {
		t.Fatal("blocked before the block")
	}
	// b blocks a: the user service replaces both users' stamps.
	err := stamps.Change(context.Background(), []string{stampsUser("a"), stampsUser("b")}, func() error {
		rpc.mu.Lock()
		rpc.blocked = true
		rpc.mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !ask() {
		t.Fatal("the block did not show on the next request")
	}
}

func TestFollowingIsNotSharedWithCallers(t *testing.T) {
	t.Parallel()
	rpc, stamps := &fakeGraph{}, &cachetest.Stamps{}
	c := NewGraph(rpc, stamps, GraphConfig{MaxFollowing: 10})
	ids, err := c.Following(cache.WithLedger(context.Background(), stamps), "u1")
	if err != nil || len(ids) != 2 {
		t.Fatalf("Following = %v, %v", ids, err)
	}
	// A caller appending to the answer never writes into the cached copy.
	_ = append(ids, "mine")
	again, _ := c.Following(cache.WithLedger(context.Background(), stamps), "u1")
	if len(again) != 2 || cap(again) != 2 || rpc.calls != 1 {
		t.Fatalf("cached list became %v (cap %d) after %d calls", again, cap(again), rpc.calls)
	}
}
