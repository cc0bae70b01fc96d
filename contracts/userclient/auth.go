package userclient

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"go.uber.org/zap"

	"pixshare/contracts/stamps"
	"pixshare/platform/apperror"
	"pixshare/platform/auth"
	"pixshare/platform/cache"
	userv1 "pixshare/proto/user/v1"
)

// Auth authenticates bearer tokens by asking the user service, keeping its
// positive answers in process, checked against the user's stamp: a
// password change, logout, deletion or suspension replaces the stamp
// before its response leaves, so a revoked token is refused on the very
// next request, by every replica of every service.
type Auth struct {
	rpc    userv1.AuthServiceClient
	cache  *cache.Checked[auth.Principal]
	logger *zap.Logger
	now    func() time.Time
}

// NewAuth returns an Auth calling rpc, with copies checked against stamps.
func NewAuth(rpc userv1.AuthServiceClient, s cache.StampStore, logger *zap.Logger) *Auth {
	return &Auth{rpc: rpc, cache: cache.NewChecked[auth.Principal](s, 10000, 10*time.Minute),
		logger: logger.Named("auth"), now: time.Now}
}

// cacheKey never keeps the token itself.
func cacheKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "auth:" + hex.EncodeToString(sum[:])
}

// claimedSubject reads the user id a token says it belongs to, without
// checking anything: it only names the stamp to read before asking the
// user service, who checks everything. A forged claim gains nothing: only
// the user service's positive answer for this exact token is kept.
func claimedSubject(token string) string {
	parts := strings.Split(token, ".")
	if len(token) > 4096 || len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.Sub
}

// Authenticate implements auth.Authenticator.
func (c *Auth) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	if token == "" {
		return auth.Principal{}, apperror.Unauthenticatedf("missing bearer token")
	}
	key := cacheKey(token)
	// A kept answer already names the token's user (only answers whose
	// user is the claimed one are kept), so a warm token is not decoded
	// again: reading its claims was a twentieth of a cached read's CPU.
	var sub string
	if p, ok := c.cache.Peek(key); ok {
		sub = p.UserID
	} else if sub = claimedSubject(token); sub == "" {
		return c.ask(ctx, token)
	}
	p, err := c.cache.Get(ctx, key, []string{stamps.User(sub)}, func(ctx context.Context) (auth.Principal, error) {
		p, err := c.ask(ctx, token)
		if err == nil && p.UserID != sub {
			// Not the user the stamp was read for: answer, never keep.
			return p, errMismatch{p}
		}
		return p, err
	})
	if m, ok := err.(errMismatch); ok {
		return m.p, nil
	}
	if err != nil {
		return auth.Principal{}, err
	}
	if !c.now().Before(time.Unix(p.ExpiresAt, 0)) {
		return auth.Principal{}, apperror.Unauthenticatedf("token expired")
	}
	return p, nil
}

// errMismatch carries an answer that must be returned but not cached.
type errMismatch struct{ p auth.Principal }

func (errMismatch) Error() string { return "token subject differs from its claim" }

// ask asks the user service. It fails closed: when the user service
// cannot be asked, the request is refused (503), never let through.
func (c *Auth) ask(ctx context.Context, token string) (auth.Principal, error) {
	res, err := c.rpc.Authenticate(ctx, &userv1.AuthenticateRequest{Token: token})
	if err != nil {
		switch apperror.KindOf(err) {
		case apperror.Unauthenticated, apperror.Invalid:
			return auth.Principal{}, apperror.Unauthenticatedf("invalid or expired token")
		default:
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
	return auth.Principal{UserID: res.GetUserId(), Username: res.GetUsername(), ExpiresAt: res.GetExpiresAt()}, nil
}
