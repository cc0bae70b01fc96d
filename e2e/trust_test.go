package e2e

import (
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
