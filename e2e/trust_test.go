package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pixshare/platform/apitest"
)

// TestAccountSecurity: a stolen token alone cannot take an account over,
// and an operator's suspension locks the account out on its very next
// request, everywhere. The stack runs with the defaults users get.
func TestAccountSecurity(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e skipped in -short mode")
	}
	s := Start(t, Options{Env: map[string]string{"ARGON2_MEMORY_KIB": "8192", "ARGON2_ITERATIONS": "1"}})
	gw := apitest.New(t, s.Gateway)
	victim := gw.From("127.0.0.21")
	victim.Register("victim")
	stolen := victim.Token

	// The thief has the token, not the password.
	thief := gw.From("127.0.0.22").As(stolen)
	thief.Expect(403, "PATCH", "/v1/users/me", map[string]string{"password": "the thief's new one"})
	thief.Expect(403, "PATCH", "/v1/users/me", map[string]string{"password": "the thief's new one", "current_password": "a guess at it"})
	thief.Expect(403, "PATCH", "/v1/users/me", map[string]string{"email": "thief@example.com"})
	thief.Expect(403, "DELETE", "/v1/users/me", map[string]string{"current_password": "a guess at it"})
	// The owner still logs in with the old password; the account is whole.
	if me := victim.Expect(200, "GET", "/v1/users/me", nil).JSON(t); me["email"] != "victim@example.com" {
		t.Fatalf("the account changed: %v", me)
	}
	victim.Expect(200, "POST", "/v1/users/login", map[string]string{"username": "victim", "password": "correct horse battery"})

	// Suspension by the operator: the next request is refused on every
	// service, and the account cannot log in; reinstated, it works again.
	victim.Expect(200, "GET", "/v1/feed", nil) // warm the post service's copy of the token
	victim.Expect(200, "GET", "/v1/users/me", nil)
	if out, err := s.Command(t, "user", "suspend", "victim"); err != nil || !strings.Contains(out, "suspended") {
		t.Fatalf("user suspend: %v\n%s", err, out)
	}
	for _, path := range []string{"/v1/feed", "/v1/users/me", "/v1/search?tag=x"} {
		if st := victim.Do("GET", path, nil).Status; st != 403 {
			t.Errorf("%s right after the suspension: %d, want 403", path, st)
		}
	}
	gw.From("127.0.0.23").Expect(401, "POST", "/v1/users/login", map[string]string{"username": "victim", "password": "correct horse battery"})
	if out, err := s.Command(t, "user", "unsuspend", "victim"); err != nil {
		t.Fatalf("user unsuspend: %v\n%s", err, out)
	}
	victim.Expect(200, "GET", "/v1/feed", nil)
}

// TestKeyRotation follows the documented rotation of the token key on the
// local profile, whose file secret store is read when the sidecar starts:
// edit .data/secrets.json, restart. Tokens issued before stay valid while
// their key is listed, nobody is logged out, and new tokens name the new
// key; dropping the old key (once its tokens have expired) ends them.
func TestKeyRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e skipped in -short mode")
	}
	s := Start(t, Options{Env: map[string]string{"ARGON2_MEMORY_KIB": "8192", "ARGON2_ITERATIONS": "1"}})
	secrets := filepath.Join(s.Root, ".data", "secrets.json")
	read := func() map[string]string {
		t.Helper()
		b, err := os.ReadFile(secrets)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	write := func(key string) {
		t.Helper()
		m := read()
		m["jwt-signing-key"] = key
		b, _ := json.Marshal(m)
		if err := os.WriteFile(secrets, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	kid := func(token string) string {
		t.Helper()
		header, _, _ := strings.Cut(token, ".")
		b, err := base64.RawURLEncoding.DecodeString(header)
		if err != nil {
			t.Fatal(err)
		}
		var h struct{ Kid string }
		if err := json.Unmarshal(b, &h); err != nil || h.Kid == "" {
			t.Fatalf("token header %s has no kid", b)
		}
		return h.Kid
	}
	oldKey := read()["jwt-signing-key"]
	newKey := base64.StdEncoding.EncodeToString([]byte("the operator's new key, 48 random bytes in life"))

	gw := apitest.New(t, s.Gateway)
	alice := gw.From("127.0.0.31")
	alice.Register("alice")
	before := alice.Token
	oldKid := kid(before)

	// Steps 1 and 2 at once (one replica): the new key signs, the old one
	// still verifies.
	write(newKey + " " + oldKey)
	s.Restart(t)
	gw = apitest.New(t, s.Gateway)
	gw.From("127.0.0.31").As(before).Expect(200, "GET", "/v1/users/me", nil)
	gw.From("127.0.0.31").As(before).Expect(200, "GET", "/v1/feed", nil)
	after, _ := gw.From("127.0.0.32").Expect(200, "POST", "/v1/users/login", map[string]string{"username": "alice", "password": "correct horse battery"}).JSON(t)["access_token"].(string)
	if kid(after) == oldKid {
		t.Fatalf("after the rotation, new tokens still name the old key %s", oldKid)
	}
	gw.From("127.0.0.32").As(after).Expect(200, "GET", "/v1/users/me", nil)

	// Step 3, once the old key's tokens have expired: drop it.
	write(newKey)
	s.Restart(t)
	gw = apitest.New(t, s.Gateway)
	gw.From("127.0.0.31").As(before).Expect(401, "GET", "/v1/users/me", nil)
	gw.From("127.0.0.32").As(after).Expect(200, "GET", "/v1/users/me", nil)
	s.AssertNoSecretsLogged(t, oldKey, newKey)
}
