package e2e

import "testing"

// TestPortTakenSignatures: every way a launch is known to fail for a port
// taken meanwhile is retried with other ports, and nothing else is.
func TestPortTakenSignatures(t *testing.T) {
	t.Parallel()
	retried := []string{
		"stack: port 41234 (post HTTP_ADDR) is already in use",
		`post.dapr        │ time="2026-12-06T20:53:55Z" level=fatal msg="Failed to start metrics server: listen tcp :41235: bind: address already in use"`,
		`search.dapr      │ time="2026-12-06T20:53:55.262758814Z" level=fatal msg="Failed to rollback transaction: context canceled" app_id=search component="nr (sqlite/v1)"`,
	}
	for _, line := range retried {
		if !portTaken.MatchString(line) {
			t.Errorf("not retried: %s", line)
		}
	}
	for _, line := range []string{
		`user.dapr        │ time="2026-12-06T19:24:36Z" level=fatal msg="Fatal error from runtime: process component secrets error: open .data/secrets.json: no such file or directory"`,
		"stack: every app is ready",
	} {
		if portTaken.MatchString(line) {
			t.Errorf("retried, but no port was taken: %s", line)
		}
	}
}
