package adapters

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"pixshare/platform/apperror"
	"pixshare/user/internal/app"
	"pixshare/user/internal/domain"
)

// Token claims beyond the registered ones.
type tokenClaims struct {
	jwt.RegisteredClaims
	// Version must equal the user's token version: a password change,
	// logout or deletion bumps it and so revokes older tokens.
	Version int `json:"ver"`
}

// JWTTokens issues and verifies HS256 tokens. The algorithm is pinned:
// tokens naming any other (including "none") are refused.
type JWTTokens struct {
	key      atomic.Pointer[[]byte]
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
}

// MinKeyBytes is the shortest signing key accepted.
const MinKeyBytes = 32

// NewJWTTokens returns tokens for issuer and audience lasting ttl. Call
// SetKey before use.
func NewJWTTokens(issuer, audience string, ttl time.Duration) *JWTTokens {
	return &JWTTokens{issuer: issuer, audience: audience, ttl: ttl, now: time.Now}
}

// SetKey installs the signing key.
func (t *JWTTokens) SetKey(key []byte) error {
	if len(key) < MinKeyBytes {
		return fmt.Errorf("JWT signing key must be at least %d bytes, got %d", MinKeyBytes, len(key))
	}
	k := append([]byte(nil), key...)
	t.key.Store(&k)
	return nil
}

func (t *JWTTokens) signingKey() ([]byte, error) {
	k := t.key.Load()
	if k == nil {
		return nil, apperror.New(apperror.Unavailable, "token signing key not loaded")
	}
	return *k, nil
}

// Issue implements app.Tokens.
func (t *JWTTokens) Issue(u domain.User) (string, time.Duration, error) {
	key, err := t.signingKey()
	if err != nil {
		return "", 0, err
	}
	now := t.now()
	claims := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   u.ID,
			Audience:  jwt.ClaimStrings{t.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			ID:        uuid.NewString(),
		},
		Version: u.TokenVersion,
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		return "", 0, fmt.Errorf("sign token: %w", err)
	}
	return signed, t.ttl, nil
}

// Verify implements app.Tokens.
func (t *JWTTokens) Verify(token string) (app.Claims, error) {
	key, err := t.signingKey()
	if err != nil {
		return app.Claims{}, err
	}
	if len(token) > 4096 {
		return app.Claims{}, apperror.Unauthenticatedf("invalid token")
	}
	var claims tokenClaims
	_, err = jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		msg := "invalid token"
		if errors.Is(err, jwt.ErrTokenExpired) {
			msg = "token expired"
		}
		return app.Claims{}, apperror.Wrap(apperror.Unauthenticated, err, msg)
	}
	if claims.Subject == "" || claims.ExpiresAt == nil {
		return app.Claims{}, apperror.Unauthenticatedf("invalid token")
	}
	return app.Claims{UserID: claims.Subject, TokenVersion: claims.Version, ExpiresAt: claims.ExpiresAt.Time}, nil
}

// LoadSigningKey reads the signing key from the Dapr secret store.
func LoadSigningKey(ctx context.Context, client dapr.Client, store, name string) ([]byte, error) {
	secret, err := client.GetSecret(ctx, store, name, nil)
	if err != nil {
		return nil, fmt.Errorf("read secret %q from store %q: %w", name, store, err)
	}
	v, ok := secret[name]
	if !ok || v == "" {
		return nil, fmt.Errorf("secret store %q has no %q", store, name)
	}
	return []byte(v), nil
}
