package adapters

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

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
//
// Keys come from one secret holding one or more keys separated by white
// space or commas: the first signs, every one verifies. Each token names
// its key in the header's "kid" (KeyID), so rotation is three edits of the
// secret that log nobody out (docs/operations.md, "Rotating the token
// key"): "OLD NEW" (every replica learns NEW), "NEW OLD" (NEW signs, OLD
// still verifies), then "NEW" once OLD's tokens have expired.
type JWTTokens struct {
	keys     atomic.Pointer[keyring]
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
}

// keyring is one reading of the secret.
type keyring struct {
	signID string
	sign   []byte
	verify map[string][]byte // by key id; the signing key included
}

// MinKeyBytes is the shortest signing key accepted.
const MinKeyBytes = 32

// KeyID names a key in tokens' "kid": the first 8 bytes of its SHA-256, in
// hex. It identifies the key without revealing anything useful about it.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// NewJWTTokens returns tokens for issuer and audience lasting ttl. Call
// SetKeys before use.
func NewJWTTokens(issuer, audience string, ttl time.Duration) *JWTTokens {
	return &JWTTokens{issuer: issuer, audience: audience, ttl: ttl, now: time.Now}
}

// SetKeys installs the keys of secret (see JWTTokens). It reports the key
// ids, signing key first, and whether they differ from those installed.
func (t *JWTTokens) SetKeys(secret string) (ids []string, changed bool, err error) {
	fields := strings.FieldsFunc(secret, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if len(fields) == 0 {
		return nil, false, errors.New("JWT signing key secret is empty")
	}
	ring := &keyring{verify: make(map[string][]byte, len(fields))}
	for i, f := range fields {
		if len(f) < MinKeyBytes {
			return nil, false, fmt.Errorf("JWT key %d must be at least %d bytes, got %d", i+1, MinKeyBytes, len(f))
		}
		id := KeyID([]byte(f))
		if i == 0 {
			ring.signID, ring.sign = id, []byte(f)
		}
		if _, dup := ring.verify[id]; !dup {
			ring.verify[id] = []byte(f)
			ids = append(ids, id)
		}
	}
	old := t.keys.Swap(ring)
	changed = old == nil || old.signID != ring.signID || len(old.verify) != len(ring.verify)
	if !changed {
		for id := range ring.verify {
			if _, ok := old.verify[id]; !ok {
				changed = true
			}
		}
	}
	return ids, changed, nil
}

func (t *JWTTokens) keyring() (*keyring, error) {
	k := t.keys.Load()
	if k == nil {
		return nil, apperror.New(apperror.Unavailable, "token signing key not loaded")
	}
	return k, nil
}

// Issue implements app.Tokens.
func (t *JWTTokens) Issue(u domain.User) (string, time.Duration, error) {
	ring, err := t.keyring()
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
	token := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	token.Header["kid"] = ring.signID
	signed, err := token.SignedString(ring.sign)
	if err != nil {
		return "", 0, fmt.Errorf("sign token: %w", err)
	}
	return signed, t.ttl, nil
}

// Verify implements app.Tokens.
func (t *JWTTokens) Verify(token string) (app.Claims, error) {
	ring, err := t.keyring()
	if err != nil {
		return app.Claims{}, err
	}
	if len(token) > 4096 {
		return app.Claims{}, apperror.Unauthenticatedf("invalid token")
	}
	var claims tokenClaims
	_, err = jwt.ParseWithClaims(token, &claims, ring.key,
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

// key finds the key a token names. Tokens from before key ids (none in
// the header) are checked against the signing key: they were signed by
// the only key there was and expire within one token lifetime.
func (r *keyring) key(token *jwt.Token) (any, error) {
	kid, present := token.Header["kid"]
	if !present {
		return r.sign, nil
	}
	id, _ := kid.(string)
	if key, ok := r.verify[id]; ok {
		return key, nil
	}
	return nil, errors.New("unknown key id")
}

// LoadSigningKey reads the signing key secret from the Dapr secret store.
func LoadSigningKey(ctx context.Context, client dapr.Client, store, name string) (string, error) {
	secret, err := client.GetSecret(ctx, store, name, nil)
	if err != nil {
		return "", fmt.Errorf("read secret %q from store %q: %w", name, store, err)
	}
	v, ok := secret[name]
	if !ok || v == "" {
		return "", fmt.Errorf("secret store %q has no %q", store, name)
	}
	return v, nil
}
