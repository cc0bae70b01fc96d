package httpserver

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of RFC 7240 (Prefer Header for HTTP).
const (
	HeaderPrefer            = "Prefer"
	HeaderPreferenceApplied = "Preference-Applied"
)

// maxWaitSeconds bounds what PreferWait returns before a service applies
// its own, smaller, limit: larger numbers only risk overflow.
const maxWaitSeconds = 1 << 20

// PreferWait returns the "wait" preference of the request's Prefer headers
// (RFC 7240: "Prefer: wait=10" asks the server to answer within 10 seconds,
// waiting for the work the request is about). ok is false when the request
// has none, or when its value is not a number of seconds: a preference the
// server cannot read is ignored, never an error. Only the first "wait"
// counts, as the RFC says.
func PreferWait(h http.Header) (wait time.Duration, ok bool) {
	for _, line := range h.Values(HeaderPrefer) {
		for _, pref := range splitOutsideQuotes(line, ',') {
			// Parameters after ';' are not wait's business.
			pref = splitOutsideQuotes(pref, ';')[0]
			name, value, _ := strings.Cut(pref, "=")
			if !strings.EqualFold(strings.TrimSpace(name), "wait") {
				continue
			}
			value = strings.TrimSpace(value)
			if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
				value = value[1 : len(value)-1]
			}
			if value == "" || strings.TrimLeft(value, "0123456789") != "" {
				return 0, false
			}
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n > maxWaitSeconds {
				n = maxWaitSeconds
			}
			return time.Duration(n) * time.Second, true
		}
	}
	return 0, false
}

// splitOutsideQuotes splits s at every sep that is not inside a
// quoted-string (where a backslash escapes the next character).
func splitOutsideQuotes(s string, sep byte) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
