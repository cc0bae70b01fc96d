package userclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"go.uber.org/zap"

	"pixshare/platform/apperror"
	"pixshare/platform/auth"
	"pixshare/platform/cache"
	userv1 "pixshare/proto/user/v1"
)

// AuthConfig is read from the environment.
type AuthConfig struct {
	// CacheTTL bounds how long a positive answer is reused, and so how long
	// a revoked token (password change, account deletion) keeps working in
	// services other than user. 0 disables caching.
	CacheTTL time.Duration `env:"AUTH_CACHE_TTL" envDefault:"10s"`
	// LocalCacheTTL is the in-process layer in front of the state store,
	// which saves a sidecar hop on hot paths. It never extends CacheTTL:
	// an answer is kept in process only for what is left of it.
	LocalCacheTTL time.Duration `env:"AUTH_LOCAL_CACHE_TTL" envDefault:"2s"`
}

// Auth authenticates through the user service.
type Auth struct {
	rpc    userv1.AuthServiceClient
	cache  cache.Cache
	cfg    AuthConfig
	local  *cache.Local[auth.Principal]
	logger *zap.Logger
}

// NewAuth returns an Auth calling rpc, caching in c.
func NewAuth(rpc userv1.AuthServiceClient, c cache.Cache, cfg AuthConfig, logger *zap.Logger) *Auth {
	return &Auth{rpc: rpc, cache: c, cfg: cfg, local: cache.NewLocal[auth.Principal](10000), logger: logger.Named("auth")}
}

// cacheKey never stores the token itself.
func cacheKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "auth:" + hex.EncodeToString(sum[:])
}

// Authenticate implements auth.Authenticator.
func (c *Auth) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	if token == "" {
		return auth.Principal{}, apperror.Unauthenticatedf("missing bearer token")
	}
	key := cacheKey(token)
	now := time.Now()
	if c.cfg.CacheTTL > 0 {
		if p, ok := c.local.Get(key); ok {
			return p, nil
		}
		var e cache.Stamped[auth.Principal]
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
			return auth.Principal{}, apperror.Unauthenticatedf("invalid or expired token")
		default:
			// Fail closed: an unreachable user service refuses the request.
			return auth.Principal{}, apperror.Wrap(apperror.Unavailable, err, "authentication is unavailable; try again")
		}
	}
	switch res.GetStatus() {
	case userv1.UserStatus_USER_STATUS_ACTIVE:
	case userv1.UserStatus_USER_STATUS_INVALID_TOKEN:
		return auth.Principal{}, apperror.Unauthenticatedf("invalid or expired token")
	case userv1.UserStatus_USER_STATUS_SUSPENDED:
		return auth.Principal{}, apperror.Forbiddenf("account suspended")
	default:
		return auth.Principal{}, apperror.Unauthenticatedf("account no longer exists")
	}
	p := auth.Principal{UserID: res.GetUserId(), Username: res.GetUsername(), ExpiresAt: res.GetExpiresAt()}
	if c.cfg.CacheTTL > 0 {
		ttl := min(c.cfg.CacheTTL, time.Until(time.Unix(p.ExpiresAt, 0)))
		if ttl > time.Second {
			c.cache.Set(ctx, key, cache.Stamped[auth.Principal]{V: p, At: now}, ttl)
			c.local.Set(key, p, min(c.cfg.LocalCacheTTL, ttl))
		}
	}
	return p, nil
}
