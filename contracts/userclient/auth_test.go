package userclient

import (
	"context"
	"encoding/base64"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"pixshare/contracts/stamps"
	"pixshare/platform/apperror"
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
		c := NewAuth(&fakeAuth{res: tt.res, err: tt.err}, &cachetest.Stamps{}, zap.NewNop())
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

// jwtFor is a token-shaped string claiming sub (the client never checks
// the signature: the user service does).
func jwtFor(sub, salt string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256"}`)) + "." + enc([]byte(`{"sub":"`+sub+`","jti":"`+salt+`"}`)) + "." + enc([]byte("sig"))
}

// request is what the middleware gives every request: its own ledger.
func request(s cache.StampStore) context.Context { return cache.WithLedger(context.Background(), s) }

func TestClientCachesOnlyPositiveAnswers(t *testing.T) {
	t.Parallel()
	rpc, stamps := &fakeAuth{res: active()}, &cachetest.Stamps{}
	c := NewAuth(rpc, stamps, zap.NewNop())
	t1 := jwtFor("u1", "1")
	for range 3 {
		if _, err := c.Authenticate(request(stamps), t1); err != nil {
			t.Fatal(err)
		}
	}
	if rpc.calls != 1 {
		t.Fatalf("%d calls for one token, want 1 (cached)", rpc.calls)
	}
	rpc.res = &userv1.AuthenticateResponse{Status: userv1.UserStatus_USER_STATUS_INVALID_TOKEN}
	t2 := jwtFor("u1", "2")
	for range 2 {
		_, _ = c.Authenticate(request(stamps), t2)
	}
	if rpc.calls != 3 {
		t.Fatalf("a refused token was cached (%d calls)", rpc.calls)
	}
}

func TestRevocationShowsOnTheNextRequest(t *testing.T) {
	t.Parallel()
	rpc, stamps := &fakeAuth{res: active()}, &cachetest.Stamps{}
	c := NewAuth(rpc, stamps, zap.NewNop())
	tok := jwtFor("u1", "1")
	if _, err := c.Authenticate(request(stamps), tok); err != nil {
		t.Fatal(err)
	}
	// The user changes their password: the user service revokes the token
	// and replaces the user's stamp before it answers.
	err := stamps.Change(context.Background(), []string{stampsUser("u1")}, func() error {
		rpc.mu.Lock()
		rpc.res = &userv1.AuthenticateResponse{Status: userv1.UserStatus_USER_STATUS_INVALID_TOKEN}
		rpc.mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Authenticate(request(stamps), tok); !apperror.Is(err, apperror.Unauthenticated) {
		t.Fatalf("a revoked token was accepted from the cache: %v", err)
	}
}

func TestStoreDownAsksEveryTime(t *testing.T) {
	t.Parallel()
	rpc, stamps := &fakeAuth{res: active()}, &cachetest.Stamps{Fail: true}
	c := NewAuth(rpc, stamps, zap.NewNop())
	tok := jwtFor("u1", "1")
	for range 3 {
		if _, err := c.Authenticate(request(stamps), tok); err != nil {
			t.Fatal(err)
		}
	}
	if rpc.calls != 3 {
		t.Fatalf("with the stamps unreadable, %d calls for 3 requests, want 3 (nothing can be checked)", rpc.calls)
	}
}

func TestExpiredAnswerIsRefused(t *testing.T) {
	t.Parallel()
	res := active()
	res.ExpiresAt = time.Now().Add(-time.Second).Unix()
	c := NewAuth(&fakeAuth{res: res}, &cachetest.Stamps{}, zap.NewNop())
	if _, err := c.Authenticate(context.Background(), jwtFor("u1", "x")); !apperror.Is(err, apperror.Unauthenticated) {
		t.Fatalf("an expired answer was accepted: %v", err)
	}
}

func stampsUser(id string) string { return stamps.User(id) }
