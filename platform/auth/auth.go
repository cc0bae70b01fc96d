// Package auth authenticates REST requests for every service by asking the
// user service (user.v1.AuthService/Authenticate through the local sidecar)
// and caching positive answers briefly.
//
// It fails closed: when the user service cannot be asked, the request is
// refused with 503, never let through. Only ACTIVE users pass; deleted,
// unknown and suspended users are refused even with a genuine token.
package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"pixshare/platform/apperror"
	"pixshare/platform/cache"
	"pixshare/platform/httpserver"
	userv1 "pixshare/proto/user/v1"
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

// Config is read from the environment.
type Config struct {
	// CacheTTL bounds how long a positive answer is reused, and so how long
	// a revoked token (password change, account deletion) keeps working in
	// services other than user. 0 disables caching.
	CacheTTL time.Duration `env:"AUTH_CACHE_TTL" envDefault:"10s"`
	// LocalCacheTTL is the in-process layer in front of the state store,
	// which saves a sidecar hop on hot paths. It never extends CacheTTL:
	// an answer is kept in process only for what is left of it.
	LocalCacheTTL time.Duration `env:"AUTH_LOCAL_CACHE_TTL" envDefault:"2s"`
}

// Client authenticates through the user service.
type Client struct {
	rpc    userv1.AuthServiceClient
	cache  cache.Cache
	cfg    Config
	local  *cache.Local[Principal]
	logger *zap.Logger
}

// NewClient returns a Client calling rpc, caching in c.
func NewClient(rpc userv1.AuthServiceClient, c cache.Cache, cfg Config, logger *zap.Logger) *Client {
	return &Client{rpc: rpc, cache: c, cfg: cfg, local: cache.NewLocal[Principal](10000), logger: logger.Named("auth")}
}

// cacheKey never stores the token itself.
func cacheKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "auth:" + hex.EncodeToString(sum[:])
}

// Authenticate implements Authenticator.
func (c *Client) Authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, apperror.Unauthenticatedf("missing bearer token")
	}
	key := cacheKey(token)
	now := time.Now()
	if c.cfg.CacheTTL > 0 {
		if p, ok := c.local.Get(key); ok {
			return p, nil
		}
		var e cache.Stamped[Principal]
		if c.cache.Get(ctx, key, &e) {
			if left := min(e.Left(c.cfg.CacheTTL, now), time.Unix(e.V.ExpiresAt, 0).Sub(now)); left > 0 {
				c.local.Set(key, e.V, min(c.cfg.LocalCacheTTL, left))
				return e.V, nil
			}
		}
	}
	res, err := c.rpc.Authenticate(ctx, &userv1.AuthenticateRequest{Token: token})
	if err != nil {
		switch apperror.KindOf(err) {
		case apperror.Unauthenticated, apperror.Invalid:
			return Principal{}, apperror.Unauthenticatedf("invalid or expired token")
		default:
			// Fail closed: an unreachable user service refuses the request.
			return Principal{}, apperror.Wrap(apperror.Unavailable, err, "authentication is unavailable; try again")
		}
	}
	switch res.GetStatus() {
	case userv1.UserStatus_USER_STATUS_ACTIVE:
	case userv1.UserStatus_USER_STATUS_INVALID_TOKEN:
		return Principal{}, apperror.Unauthenticatedf("invalid or expired token")
	case userv1.UserStatus_USER_STATUS_SUSPENDED:
		return Principal{}, apperror.Forbiddenf("account suspended")
	default:
		return Principal{}, apperror.Unauthenticatedf("account no longer exists")
	}
	p := Principal{UserID: res.GetUserId(), Username: res.GetUsername(), ExpiresAt: res.GetExpiresAt()}
	if c.cfg.CacheTTL > 0 {
		ttl := min(c.cfg.CacheTTL, time.Until(time.Unix(p.ExpiresAt, 0)))
		if ttl > time.Second {
			c.cache.Set(ctx, key, cache.Stamped[Principal]{V: p, At: now}, ttl)
			c.local.Set(key, p, min(c.cfg.LocalCacheTTL, ttl))
		}
	}
	return p, nil
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
		r = httpserver.SetUserID(r, m.logger, p.UserID)
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
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
