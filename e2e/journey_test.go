package e2e

import (
	"strings"
	"testing"

	"pixshare/platform/apitest"
)

// TestFoundationJourney starts the stack as `make run` does, registers,
// logs in and reads the account through the gateway, then stops the stack
// and checks that no process is left.
func TestFoundationJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e skipped in -short mode")
	}
	s := Start(t, Options{})
	c := apitest.New(t, s.Gateway)
	c.Expect(200, "GET", "/readyz", nil)
	docs := c.Expect(200, "GET", "/docs", nil)
	if !strings.Contains(string(docs.Body), "<html") {
		t.Fatal("/docs is not an HTML page")
	}
	doc := c.Expect(200, "GET", "/openapi.yaml", nil)
	if !strings.Contains(string(doc.Body), "/v1/users/register") {
		t.Fatal("the merged OpenAPI document lacks the user routes")
	}

	id := c.Register("alice")
	me := c.Expect(200, "GET", "/v1/users/me", nil).JSON(t)
	if me["id"] != id || me["username"] != "alice" {
		t.Fatalf("me = %v", me)
	}
	if got := c.Do("GET", "/v1/users/me", nil).Header.Get("X-Request-Id"); got == "" {
		t.Fatal("no request id on the response")
	}
	if s.Mailpit != "" {
		s.waitWelcomeMail(t, "alice")
	}

	s.Stop(t)
	s.AssertNoSecretsLogged(t, c.Token, "correct horse battery")
	if left := s.Leftovers(); len(left) > 0 {
		t.Fatalf("processes left after stop:\n%s", strings.Join(left, "\n"))
	}
	if !strings.Contains(s.Output(), "stopped") {
		t.Fatal("the launcher did not report a clean stop")
	}
}
