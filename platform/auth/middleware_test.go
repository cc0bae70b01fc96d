package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.uber.org/zap"

	"pixshare/platform/apperror"
	"pixshare/platform/health"
	"pixshare/platform/httpserver"
)

// fakeAuthenticator accepts every token as user u1 until told to fail.
type fakeAuthenticator struct {
	mu  sync.Mutex
	err error
}

func (f *fakeAuthenticator) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeAuthenticator) Authenticate(context.Context, string) (Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return Principal{}, f.err
	}
	return Principal{UserID: "u1"}, nil
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	a := &fakeAuthenticator{}
	mw := NewMiddleware(a, zap.NewNop())
	rt := httpserver.NewRouter(httpserver.Config{MaxBodyBytes: 1 << 10}, zap.NewNop(), health.NewRegistry(health.Params{}))
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := FromContext(r.Context())
		httpserver.WriteJSON(w, 200, map[string]string{"user": p.UserID})
	})
	rt.Mux.Handle("/required", mw.Required(who))
	rt.Mux.Handle("/optional", mw.Optional(who))
	h := rt.Handler()
	call := func(path, authz string) int {
		req := httptest.NewRequest("GET", path, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	cases := []struct {
		path, authz string
		want        int
	}{
		{"/required", "", 401}, {"/required", "Bearer t", 200}, {"/required", "Basic abc", 401}, {"/required", "Bearer ", 401},
		{"/optional", "", 200}, {"/optional", "Bearer t", 200}, {"/optional", "Token x", 401},
	}
	for _, c := range cases {
		if got := call(c.path, c.authz); got != c.want {
			t.Errorf("%s with %q: %d, want %d", c.path, c.authz, got, c.want)
		}
	}
	a.setErr(apperror.New(apperror.Unavailable, "down"))
	if got := call("/optional", "Bearer t"); got != 503 {
		t.Errorf("user service down: %d, want 503 (fail closed even on optional routes)", got)
	}
}
