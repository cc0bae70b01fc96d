package userclient

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"pixshare/platform/apperror"
	"pixshare/platform/auth"
	"pixshare/platform/cache"
	"pixshare/platform/cache/cachetest"
	userv1 "pixshare/proto/user/v1"
)

// fakeAuth is a hand-written AuthServiceClient.
type fakeAuth struct {
	mu    sync.Mutex
	calls int
	res   *userv1.AuthenticateResponse
	err   error
}

func (f *fakeAuth) Authenticate(_ context.Context, _ *userv1.AuthenticateRequest, _ ...grpc.CallOption) (*userv1.AuthenticateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.res, f.err
}

func active() *userv1.AuthenticateResponse {
	return &userv1.AuthenticateResponse{UserId: "u1", Username: "alice", Status: userv1.UserStatus_USER_STATUS_ACTIVE,
		ExpiresAt: time.Now().Add(time.Hour).Unix()}
}

func TestClientStatusesAndFailClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		res  *userv1.AuthenticateResponse
		err  error
		kind apperror.Kind
	}{
		{"active", active(), nil, -1},
		{"deleted", &userv1.AuthenticateResponse{Status: userv1.UserStatus_USER_STATUS_DELETED}, nil, apperror.Unauthenticated},
		{"unknown", &userv1.AuthenticateResponse{Status: userv1.UserStatus_USER_STATUS_UNKNOWN}, nil, apperror.Unauthenticated},
		{"suspended", &userv1.AuthenticateResponse{Status: userv1.UserStatus_USER_STATUS_SUSPENDED}, nil, apperror.Forbidden},
		{"invalid token", &userv1.AuthenticateResponse{Status: userv1.UserStatus_USER_STATUS_INVALID_TOKEN}, nil, apperror.Unauthenticated},
		{"invalid token as an error (older user service)", nil, apperror.FromGRPC(status.Error(codes.Unauthenticated, "bad")), apperror.Unauthenticated},
		{"user service down", nil, apperror.FromGRPC(status.Error(codes.Unavailable, "down")), apperror.Unavailable},
		{"anything else fails closed", nil, errors.New("boom"), apperror.Unavailable},
	}
	for _, tt := range tests {
		c := NewAuth(&fakeAuth{res: tt.res, err: tt.err}, cache.Nop{}, AuthConfig{CacheTTL: time.Minute, LocalCacheTTL: time.Second}, zap.NewNop())
		p, err := c.Authenticate(context.Background(), "token")
		if tt.kind == -1 {
			if err != nil || p.UserID != "u1" {
				t.Errorf("%s: %+v %v", tt.name, p, err)
			}
			continue
		}
		if !apperror.Is(err, tt.kind) {
			t.Errorf("%s: want %v, got %v", tt.name, tt.kind, err)
		}
	}
}

func TestClientCachesOnlyPositiveAnswers(t *testing.T) {
	t.Parallel()
	rpc := &fakeAuth{res: active()}
	c := NewAuth(rpc, cache.Nop{}, AuthConfig{CacheTTL: time.Minute, LocalCacheTTL: time.Minute}, zap.NewNop())
	for range 3 {
		if _, err := c.Authenticate(context.Background(), "t1"); err != nil {
			t.Fatal(err)
		}
	}
	if rpc.calls != 1 {
		t.Fatalf("%d calls for one token, want 1 (cached)", rpc.calls)
	}
	rpc.res = &userv1.AuthenticateResponse{Status: userv1.UserStatus_USER_STATUS_INVALID_TOKEN}
	for range 2 {
		_, _ = c.Authenticate(context.Background(), "t2")
	}
	if rpc.calls != 3 {
		t.Fatalf("a refused token was cached (%d calls)", rpc.calls)
	}
	off := NewAuth(&fakeAuth{res: active()}, cache.Nop{}, AuthConfig{}, zap.NewNop())
	for range 2 {
		_, _ = off.Authenticate(context.Background(), "t1")
	}
	if n := off.rpc.(*fakeAuth).calls; n != 2 {
		t.Fatalf("with caching off, %d calls, want 2", n)
	}
}

func TestAuthAnswerFromAnotherReplicaKeepsItsTTL(t *testing.T) {
	t.Parallel()
	ttl := 10 * time.Second
	rpc, store := &fakeAuth{res: active()}, &cachetest.Store{}
	c := NewAuth(rpc, store, AuthConfig{CacheTTL: ttl, LocalCacheTTL: time.Minute}, zap.NewNop())
	p := auth.Principal{UserID: "u1", ExpiresAt: time.Now().Add(time.Hour).Unix()}
	// Another replica asked user almost a TTL ago, and long ago.
	store.Set(context.Background(), cacheKey("fresh"), cache.Stamped[auth.Principal]{V: p, At: time.Now().Add(-ttl + 50*time.Millisecond)}, ttl)
	store.Set(context.Background(), cacheKey("stale"), cache.Stamped[auth.Principal]{V: p, At: time.Now().Add(-ttl - time.Second)}, ttl)

	if _, err := c.Authenticate(context.Background(), "fresh"); err != nil || rpc.calls != 0 {
		t.Fatalf("err %v after %d calls; want the stored answer", err, rpc.calls)
	}
	// The in-process copy may live only for what was left of the TTL, so
	// a revoked token stops working within AUTH_CACHE_TTL.
	time.Sleep(100 * time.Millisecond)
	if _, err := c.Authenticate(context.Background(), "fresh"); err != nil || rpc.calls != 1 {
		t.Fatalf("err %v after %d calls; want user asked again", err, rpc.calls)
	}
	if _, err := c.Authenticate(context.Background(), "stale"); err != nil || rpc.calls != 2 {
		t.Fatalf("err %v after %d calls; an answer older than the TTL was used", err, rpc.calls)
	}
}
