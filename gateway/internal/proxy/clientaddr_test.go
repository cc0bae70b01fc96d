package proxy_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"pixshare/platform/config"
	"pixshare/platform/health"
	"pixshare/platform/httpserver"
	"pixshare/platform/ratelimit"
)

const hopToken = "test-hop-token-0123456789"

// newLimitedService is a service on the platform's real router and
// limiter: one request per minute per client, keyed as the services key
// their login and upload limits (ratelimit.ClientIP).
func newLimitedService(t *testing.T, env map[string]string) *httptest.Server {
	t.Helper()
	hcfg, err := config.LoadFrom[httpserver.Config](env)
	if err != nil {
		t.Fatal(err)
	}
	logger := zaptest.NewLogger(t)
	rt := httpserver.NewRouter(hcfg, logger, health.NewRegistry(health.Params{}))
	limiter := ratelimit.New(true)
	rt.Mux.PathPrefix("/v1/users/").Handler(httpserver.Handle(func(w http.ResponseWriter, r *http.Request) error {
		if err := limiter.Allow("login", ratelimit.ClientIP(r), ratelimit.Limit{Count: 1, Period: time.Minute}); err != nil {
			return err
		}
		httpserver.WriteJSON(w, http.StatusOK, map[string]string{"client": ratelimit.ClientIP(r)})
		return nil
	}))
	srv := httptest.NewServer(rt.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address local (127.0.0.0/8 is all this host's), so one machine
// plays several clients.
func clientFrom(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func status(t *testing.T, c *http.Client, url string, header map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// Two clients behind one reverse proxy (an Ingress) get separate buckets:
// the gateway trusts the proxy's X-Forwarded-For hop, not what the client
// wrote to its left, and vouches for the address to the service.
func TestClientsBehindTrustedProxyGetSeparateBuckets(t *testing.T) {
	t.Parallel()
	svc := newLimitedService(t, map[string]string{"GATEWAY_HOP_TOKEN": hopToken})
	gw := newGateway(t, map[string]string{
		"GATEWAY_USER_URL": svc.URL, "GATEWAY_HOP_TOKEN": hopToken, "TRUSTED_PROXIES": "127.0.0.1/32",
	})
	gwURL, _ := url.Parse(gw.URL)
	// The test Ingress: appends its peer to X-Forwarded-For, as nginx and
	// cloud load balancers do. Its own connections come from 127.0.0.1.
	ingress := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(gwURL)
		pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
		pr.SetXForwarded()
	}})
	t.Cleanup(ingress.Close)

	alice, bob := clientFrom("127.0.0.2"), clientFrom("127.0.0.3")
	path := ingress.URL + "/v1/users/login"
	// Alice lies about who she is; the lie is left of the proxy's hop.
	spoof := map[string]string{"X-Forwarded-For": "198.51.100.7"}
	if got := status(t, alice, path, spoof); got != http.StatusOK {
		t.Fatalf("alice's first request: %d", got)
	}
	if got := status(t, alice, path, map[string]string{"X-Forwarded-For": "198.51.100.8"}); got != http.StatusTooManyRequests {
		t.Fatalf("alice's second request, with another spoofed address: want 429, got %d", got)
	}
	if got := status(t, bob, path, nil); got != http.StatusOK {
		t.Fatalf("bob shares alice's bucket: %d", got)
	}
	if got := status(t, bob, path, nil); got != http.StatusTooManyRequests {
		t.Fatalf("bob's second request: want 429, got %d", got)
	}
}

// Without the hop token, a service believes no header about the client: a
// spoofed X-Forwarded-For or client-address header sent straight to it
// changes nothing.
func TestSpoofedForwardingSentToServiceChangesNothing(t *testing.T) {
	t.Parallel()
	svc := newLimitedService(t, map[string]string{"GATEWAY_HOP_TOKEN": hopToken})
	c := clientFrom("127.0.0.4")
	path := svc.URL + "/v1/users/login"
	if got := status(t, c, path, nil); got != http.StatusOK {
		t.Fatalf("first request: %d", got)
	}
	for i, h := range []map[string]string{
		{"X-Forwarded-For": "203.0.113.1"},
		{httpserver.HeaderClientAddr: "203.0.113.2"},
		{httpserver.HeaderClientAddr: "203.0.113.3", httpserver.HeaderHopToken: "wrong"},
		{httpserver.HeaderClientAddr: "203.0.113.4", httpserver.HeaderHopToken: ""},
	} {
		if got := status(t, c, path, h); got != http.StatusTooManyRequests {
			t.Fatalf("spoof %d (%v) got a fresh bucket: %d", i, h, got)
		}
	}
	// A service that trusts nothing (no token configured) ignores even
	// a token-looking header.
	open := newLimitedService(t, map[string]string{})
	if got := status(t, c, open.URL+"/v1/users/x", nil); got != http.StatusOK {
		t.Fatal(got)
	}
	if got := status(t, c, open.URL+"/v1/users/x", map[string]string{httpserver.HeaderClientAddr: "203.0.113.5", httpserver.HeaderHopToken: ""}); got != http.StatusTooManyRequests {
		t.Fatalf("tokenless service took a client-address header: %d", got)
	}
}
