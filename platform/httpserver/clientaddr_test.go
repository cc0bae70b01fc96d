package httpserver

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddr(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies([]string{"10.0.0.0/8", " 192.0.2.1", ""})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseTrustedProxies([]string{"10.0.0.0/33"}); err == nil {
		t.Fatal("a bad CIDR was accepted")
	}
	tests := []struct {
		name, peer, xff, addr, token string
		want                         string
	}{
		{"no proxy: the connection", "203.0.113.9:1", "", "", "", "203.0.113.9"},
		{"untrusted peer's XFF is ignored", "203.0.113.9:1", "198.51.100.1", "", "", "203.0.113.9"},
		{"right-most untrusted hop", "10.1.1.1:1", "198.51.100.1, 198.51.100.2, 10.2.2.2", "", "", "198.51.100.2"},
		{"all hops trusted: the left-most", "10.1.1.1:1", "10.3.3.3, 192.0.2.1", "", "", "10.3.3.3"},
		{"garbage stops at the trusted hop", "10.1.1.1:1", "198.51.100.1, junk, 10.2.2.2", "", "", "10.2.2.2"},
		{"gateway hop with the token", "203.0.113.9:1", "", "198.51.100.5", "s3cret", "198.51.100.5"},
		{"gateway hop with a wrong token", "203.0.113.9:1", "", "198.51.100.5", "nope", "203.0.113.9"},
		{"gateway hop with no address", "203.0.113.9:1", "", "not-an-ip", "s3cret", "203.0.113.9"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.peer
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if tt.addr != "" {
			r.Header.Set(HeaderClientAddr, tt.addr)
		}
		if tt.token != "" {
			r.Header.Set(HeaderHopToken, tt.token)
		}
		if got := clientAddr(r, "s3cret", trusted); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}
