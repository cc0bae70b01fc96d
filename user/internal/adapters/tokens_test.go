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
	if err := tk.SetKey(testKey); err != nil {
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
	if err := NewJWTTokens("a", "b", time.Hour).SetKey([]byte("short")); err == nil {
		t.Error("a short signing key was accepted")
	}
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
