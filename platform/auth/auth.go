// Package auth authenticates REST requests for every service: middleware
// that checks the bearer token with an Authenticator and puts the caller in
// the request's context. The user service authenticates in process; every
// other service asks it (contracts/userclient).
//
// Authenticators fail closed: when the answer cannot be had, the request is
// refused with 503, never let through. Only active users pass; deleted,
// unknown and suspended users are refused even with a genuine token.
package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"pixshare/platform/apperror"
	"pixshare/platform/httpserver"
)

// Principal is the authenticated caller.
type Principal struct {
	UserID    string `json:"user_id"`
	Username  string `json:"username"`
	ExpiresAt int64  `json:"expires_at"`
}

// Authenticator checks a bearer token.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Principal, error)
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the authenticated caller, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// ViewerID is the authenticated caller's user id, or "" for an anonymous
// request (routes behind Optional).
func ViewerID(ctx context.Context) string {
	p, _ := FromContext(ctx)
	return p.UserID
}

// BearerToken extracts the token of an "Authorization: Bearer …" header.
func BearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", nil
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", apperror.Unauthenticatedf("authorization header must be 'Bearer <token>'")
	}
	return strings.TrimSpace(token), nil
}

// Middleware authenticates requests. Required routes refuse anonymous
// callers with 401; optional routes let them through without a principal
// (a bad token is refused either way).
type Middleware struct {
	auth   Authenticator
	logger *zap.Logger
}

// NewMiddleware returns middleware checking tokens with a.
func NewMiddleware(a Authenticator, logger *zap.Logger) *Middleware {
	return &Middleware{auth: a, logger: logger}
}

// Required refuses requests without a valid token.
func (m *Middleware) Required(next http.Handler) http.Handler { return m.handler(next, true) }

// Optional authenticates when a token is present.
func (m *Middleware) Optional(next http.Handler) http.Handler { return m.handler(next, false) }

func (m *Middleware) handler(next http.Handler, required bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := BearerToken(r)
		if err != nil {
			unauthorized(w, r, m.logger, err)
			return
		}
		if token == "" {
			if required {
				unauthorized(w, r, m.logger, apperror.Unauthenticatedf("this route needs a bearer token"))
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		p, err := m.auth.Authenticate(r.Context(), token)
		if err != nil {
			if apperror.Is(err, apperror.Unauthenticated) {
				unauthorized(w, r, m.logger, err)
				return
			}
			httpserver.WriteError(w, r, m.logger, err)
			return
		}
		ctx := httpserver.WithUserID(r.Context(), m.logger, p.UserID)
		next.ServeHTTP(w, r.WithContext(WithPrincipal(ctx, p)))
	})
}

func unauthorized(w http.ResponseWriter, r *http.Request, logger *zap.Logger, err error) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="pixshare"`)
	httpserver.WriteError(w, r, logger, err)
}

// Require returns the principal of an authenticated request, or an
// Unauthenticated error for handlers behind Optional.
func Require(ctx context.Context) (Principal, error) {
	if p, ok := FromContext(ctx); ok {
		return p, nil
	}
	return Principal{}, errors.New("auth: no principal in context (route not behind auth middleware)")
}
