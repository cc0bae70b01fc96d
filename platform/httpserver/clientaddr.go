package httpserver

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"pixshare/platform/reqinfo"
)

// The gateway tells the services who the client is in HeaderClientAddr,
// and proves the header is its own with HeaderHopToken (the secret
// GATEWAY_HOP_TOKEN every app is given). A service believes the address
// only with the right token: X-Forwarded-For, which anyone reaching a
// service's port can send, is never read.
const (
	HeaderClientAddr = "X-Pixshare-Client-Addr"
	HeaderHopToken   = "X-Pixshare-Hop-Token"
)

// ParseTrustedProxies reads CIDRs (or bare addresses) separated by commas.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("TRUSTED_PROXIES: %q is neither a CIDR nor an address", s)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("TRUSTED_PROXIES: %q is not a CIDR: %w", s, err)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// clientAddr decides who the client of r is:
//   - the address the gateway named, when r carries the gateway's hop token;
//   - else, when the connection comes from a trusted proxy, the right-most
//     X-Forwarded-For hop that is not a trusted proxy (hops to its left
//     were written by whoever the client is, and prove nothing);
//   - else the connection's address.
func clientAddr(r *http.Request, hopToken string, trusted []netip.Prefix) string {
	peer := remoteHost(r)
	if hopToken != "" {
		if got := r.Header.Get(HeaderHopToken); got != "" &&
			subtle.ConstantTimeCompare([]byte(got), []byte(hopToken)) == 1 {
			if a, err := netip.ParseAddr(strings.TrimSpace(r.Header.Get(HeaderClientAddr))); err == nil {
				return a.Unmap().String()
			}
		}
	}
	if len(trusted) == 0 {
		return peer
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil || !isTrusted(addr.Unmap(), trusted) {
		return peer
	}
	hops := forwardedHops(r.Header.Values("X-Forwarded-For"))
	client := addr.Unmap()
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			// Garbage where an address should be: the hop that wrote it
			// (trusted, to its right) is the last thing known.
			break
		}
		client = a.Unmap()
		if !isTrusted(client, trusted) {
			break
		}
	}
	return client.String()
}

func forwardedHops(values []string) []string {
	var hops []string
	for _, v := range values {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	return hops
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String()
	}
	return host
}

// ClientAddr is the client address of the request being served (decided
// once by the middleware), else the connection's.
func ClientAddr(r *http.Request) string {
	if ri := reqinfo.From(r.Context()); ri != nil && ri.ClientAddr != "" {
		return ri.ClientAddr
	}
	return remoteHost(r)
}
