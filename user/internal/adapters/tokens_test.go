package adapters

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"pixshare/platform/apperror"
	"pixshare/user/internal/domain"
)

var testKey = []byte("0123456789abcdef0123456789abcdef-test")

func newTokens(t testing.TB) *JWTTokens {
	t.Helper()
	tk := NewJWTTokens("pixshare", "pixshare-api", time.Hour)
	if _, _, err := tk.SetKeys(string(testKey)); err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestIssueAndVerify(t *testing.T) {
	t.Parallel()
	tk := newTokens(t)
	token, ttl, err := tk.Issue(domain.User{ID: "u1", TokenVersion: 3})
	if err != nil || ttl != time.Hour {
		t.Fatal(err)
	}
	c, err := tk.Verify(token)
	if err != nil || c.UserID != "u1" || c.TokenVersion != 3 {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	sign := func(m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": "pixshare", "aud": "pixshare-api", "sub": "u1", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	}
	bad := map[string]string{
		"none":        sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good()),
		"HS512":       sign(jwt.SigningMethodHS512, testKey, good()),
		"guessed key": sign(jwt.SigningMethodHS256, []byte("secret"), good()),
		"expired": sign(jwt.SigningMethodHS256, testKey, func() jwt.MapClaims {
			c := good()
			c["exp"] = time.Now().Add(-time.Hour).Unix()
			return c
		}()),
		"no exp":    sign(jwt.SigningMethodHS256, testKey, func() jwt.MapClaims { c := good(); delete(c, "exp"); return c }()),
		"wrong iss": sign(jwt.SigningMethodHS256, testKey, func() jwt.MapClaims { c := good(); c["iss"] = "x"; return c }()),
		"wrong aud": sign(jwt.SigningMethodHS256, testKey, func() jwt.MapClaims { c := good(); c["aud"] = "x"; return c }()),
		"no sub":    sign(jwt.SigningMethodHS256, testKey, func() jwt.MapClaims { c := good(); delete(c, "sub"); return c }()),
		"huge":      strings.Repeat("a", 5000),
	}
	for name, tok := range bad {
		if _, err := tk.Verify(tok); !apperror.Is(err, apperror.Unauthenticated) {
			t.Errorf("%s: want Unauthenticated, got %v", name, err)
		}
	}
	for _, secret := range []string{"short", string(testKey) + " short", "", " , "} {
		if _, _, err := NewJWTTokens("a", "b", time.Hour).SetKeys(secret); err == nil {
			t.Errorf("secret %q was accepted", secret)
		}
	}
}

// TestKeyRotation walks the documented rotation: at every step every
// token issued so far verifies, until the old key is dropped.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := string(testKey), "a-fresh-key-of-enough-bytes-0123456789"
	tk := NewJWTTokens("pixshare", "pixshare-api", time.Hour)
	kid := func(token string) string {
		t.Helper()
		parsed, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
		if err != nil {
			t.Fatal(err)
		}
		id, _ := parsed.Header["kid"].(string)
		return id
	}
	set := func(secret string) {
		t.Helper()
		if _, _, err := tk.SetKeys(secret); err != nil {
			t.Fatal(err)
		}
	}
	valid := func(step, token string, want bool) {
		t.Helper()
		if _, err := tk.Verify(token); (err == nil) != want {
			t.Errorf("%s: token signed by %s: verified=%v, want %v (%v)", step, kid(token), err == nil, want, err)
		}
	}
	issue := func() string {
		tok, _, err := tk.Issue(domain.User{ID: "u1"})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	set(oldKey)
	before := issue()
	if kid(before) != KeyID([]byte(oldKey)) {
		t.Fatalf("kid %q, want %q", kid(before), KeyID([]byte(oldKey)))
	}
	// 1. The new key is added after the old: old still signs, both verify.
	set(oldKey + " " + newKey)
	if tok := issue(); kid(tok) != KeyID([]byte(oldKey)) {
		t.Fatal("step 1 signs with the new key already")
	}
	other := NewJWTTokens("pixshare", "pixshare-api", time.Hour) // a replica a step ahead
	if _, _, err := other.SetKeys(newKey + " " + oldKey); err != nil {
		t.Fatal(err)
	}
	ahead, _, _ := other.Issue(domain.User{ID: "u1"})
	valid("step 1, a token from a replica already at step 2", ahead, true)
	valid("step 1", before, true)
	// 2. The new key signs; the old one still verifies.
	set(newKey + ", " + oldKey)
	after := issue()
	if kid(after) != KeyID([]byte(newKey)) {
		t.Fatal("step 2 does not sign with the new key")
	}
	valid("step 2, old token", before, true)
	valid("step 2, new token", after, true)
	// 3. Once the old tokens have expired, the old key goes.
	set(newKey)
	valid("step 3, old token", before, false)
	valid("step 3, new token", after, true)
	// A token naming an unknown key is refused even if it would verify.
	forged := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "pixshare", "aud": "pixshare-api", "sub": "u1",
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	forged.Header["kid"] = "0000000000000000"
	signed, _ := forged.SignedString([]byte(newKey))
	valid("an unknown kid", signed, false)
}

func FuzzVerify(f *testing.F) {
	tk := newTokens(f)
	valid, _, _ := tk.Issue(domain.User{ID: "u1"})
	for _, s := range []string{valid, "", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", valid[:len(valid)-2], strings.ToUpper(valid)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := tk.Verify(token)
		if err != nil {
			if !apperror.Is(err, apperror.Unauthenticated) {
				t.Fatalf("non-Unauthenticated error %v", err)
			}
			return
		}
		if c.UserID == "" || !c.ExpiresAt.After(time.Now().Add(-time.Minute)) {
			t.Fatalf("accepted claims %+v", c)
		}
	})
}
