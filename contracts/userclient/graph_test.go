package userclient

import (
	"context"
	"sync"
	"testing"
	"time"

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

func TestHotAnswersSkipTheStateStore(t *testing.T) {
	t.Parallel()
	rpc, store := &fakeGraph{blocked: true}, &cachetest.Store{}
	c := NewGraph(rpc, store, GraphConfig{TTL: time.Minute, MaxFollowing: 10})
	for range 5 {
		// Either order of the pair is the same question.
		for _, pair := range [][2]string{{"a", "b"}, {"b", "a"}} {
			blocked, err := c.IsBlocked(context.Background(), pair[0], pair[1])
			if err != nil || !blocked {
				t.Fatalf("IsBlocked = %v, %v; want true", blocked, err)
			}
		}
	}
	if rpc.calls != 1 || store.Reads() != 1 {
		t.Fatalf("%d calls to user and %d state-store reads for one hot question, want 1 and 1", rpc.calls, store.Reads())
	}
}

func TestGraphAnswerFromAnotherReplicaKeepsItsTTL(t *testing.T) {
	t.Parallel()
	rpc, store := &fakeGraph{}, &cachetest.Store{}
	ttl := time.Minute
	// Another replica asked user almost a TTL ago.
	store.Set(context.Background(), "following:u1", cache.Stamped[[]string]{V: []string{"x"}, At: time.Now().Add(-ttl + 50*time.Millisecond)}, ttl)
	c := NewGraph(rpc, store, GraphConfig{TTL: ttl, MaxFollowing: 10})

	ids, err := c.Following(context.Background(), "u1")
	if err != nil || len(ids) != 1 || ids[0] != "x" || rpc.calls != 0 {
		t.Fatalf("Following = %v, %v after %d calls; want the stored answer", ids, err, rpc.calls)
	}
	// The in-process copy may live only for what was left of the TTL,
	// so a follow shows within the TTL however many layers there are.
	time.Sleep(100 * time.Millisecond)
	ids, err = c.Following(context.Background(), "u1")
	if err != nil || len(ids) != 2 || rpc.calls != 1 {
		t.Fatalf("Following = %v, %v after %d calls; want a fresh answer from user", ids, err, rpc.calls)
	}
	// A caller appending to the answer never writes into the cached copy.
	_ = append(ids, "mine")
	again, _ := c.Following(context.Background(), "u1")
	if len(again) != 2 || cap(again) != 2 {
		t.Fatalf("cached list became %v (cap %d)", again, cap(again))
	}
}

func TestZeroTTLAlwaysAsks(t *testing.T) {
	t.Parallel()
	rpc, store := &fakeGraph{}, &cachetest.Store{}
	c := NewGraph(rpc, store, GraphConfig{TTL: 0, MaxFollowing: 10})
	for range 3 {
		if _, err := c.IsBlocked(context.Background(), "a", "b"); err != nil {
			t.Fatal(err)
		}
	}
	if rpc.calls != 3 || store.Reads() != 0 {
		t.Fatalf("%d calls and %d state-store reads with caching off, want 3 and 0", rpc.calls, store.Reads())
	}
}
