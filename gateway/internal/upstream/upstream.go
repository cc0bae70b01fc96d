// Package upstream knows the services behind the gateway: where each one
// listens (configuration), which paths belong to which (the routing table),
// how the gateway talks to them (one shared HTTP transport) and whether
// they are ready.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/fx"

	"pixshare/platform/health"
)

// The services the gateway routes to, in the order they are listed
// everywhere (readiness, the merged API document).
const (
	User    = "user"
	Post    = "post"
	Comment = "comment"
	Search  = "search"
)

// Services lists every service the gateway knows, routed or not.
var Services = []string{User, Post, Comment, Search}

// Config is read from the environment. An empty service URL means the
// service is not routed yet: its paths answer 404. A comma-separated list
// names the service's replicas: requests take turns among them.
type Config struct {
	UserURL    string `env:"GATEWAY_USER_URL" envDefault:"http://127.0.0.1:8081"`
	PostURL    string `env:"GATEWAY_POST_URL"`
	CommentURL string `env:"GATEWAY_COMMENT_URL"`
	SearchURL  string `env:"GATEWAY_SEARCH_URL"`
	// UploadMaxBytes caps POST /v1/posts bodies: the post service's 20 MiB
	// image limit plus room for the multipart framing and form fields
	// (21 MiB + 64 KiB), so the post service, not the gateway, answers a
	// too-large image with its own precise problem.
	UploadMaxBytes int64 `env:"GATEWAY_UPLOAD_MAX_BYTES" envDefault:"22085632"`
	// UpstreamTimeout bounds the wait for an upstream's response headers
	// once the request has been sent (streaming the body is not bounded).
	UpstreamTimeout time.Duration `env:"GATEWAY_UPSTREAM_TIMEOUT" envDefault:"60s"`
	// ReadyTimeout bounds each upstream's /readyz probe. The platform's
	// readiness registry gives all checks 2s together, so larger values
	// have no effect.
	ReadyTimeout time.Duration `env:"GATEWAY_READY_TIMEOUT" envDefault:"1500ms"`
	// PublicURL is the gateway's URL as clients see it, used as the server
	// of the merged API document; empty means http://HTTP_ADDR.
	PublicURL string `env:"GATEWAY_PUBLIC_URL"`
}

// Validate checks the URLs and limits, naming the variable at fault.
func (c *Config) Validate() error {
	var errs []error
	for _, v := range []struct{ key, value string }{
		{"GATEWAY_USER_URL", c.UserURL},
		{"GATEWAY_POST_URL", c.PostURL},
		{"GATEWAY_COMMENT_URL", c.CommentURL},
		{"GATEWAY_SEARCH_URL", c.SearchURL},
		{"GATEWAY_PUBLIC_URL", c.PublicURL},
	} {
		if v.value == "" {
			continue
		}
		for _, raw := range strings.Split(v.value, ",") {
			if _, err := parseBaseURL(strings.TrimSpace(raw)); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", v.key, err))
			}
		}
	}
	if c.UploadMaxBytes <= 0 {
		errs = append(errs, errors.New("GATEWAY_UPLOAD_MAX_BYTES must be positive"))
	}
	if c.UpstreamTimeout <= 0 {
		errs = append(errs, errors.New("GATEWAY_UPSTREAM_TIMEOUT must be positive"))
	}
	if c.ReadyTimeout <= 0 {
		errs = append(errs, errors.New("GATEWAY_READY_TIMEOUT must be positive"))
	}
	return errors.Join(errs...)
}

// parseBaseURL accepts an absolute http(s) URL with a host and no query,
// fragment or credentials.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q must start with http:// or https:// (for example http://127.0.0.1:8082)", raw)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("%q has no host (for example http://127.0.0.1:8082)", raw)
	case u.User != nil:
		return nil, fmt.Errorf("%q must not carry credentials", raw)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("%q must not have a query or fragment", raw)
	}
	if port := u.Port(); port != "" {
		if _, err := net.LookupPort("tcp", port); err != nil {
			return nil, fmt.Errorf("%q has an invalid port", raw)
		}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// Upstream is one routed service: its replicas, of which URL is the first.
type Upstream struct {
	Name     string
	URL      *url.URL
	Replicas []*url.URL
	next     *atomic.Uint64
}

// Pick returns the replica the next request goes to, taking turns.
func (u Upstream) Pick() *url.URL {
	if len(u.Replicas) < 2 {
		return u.URL
	}
	return u.Replicas[(u.next.Add(1)-1)%uint64(len(u.Replicas))]
}

// URLOf returns the configured base URL of service, or "".
func (c Config) URLOf(service string) string {
	switch service {
	case User:
		return c.UserURL
	case Post:
		return c.PostURL
	case Comment:
		return c.CommentURL
	case Search:
		return c.SearchURL
	}
	return ""
}

// Upstreams returns the routed (configured) services in Services order.
// Config values are validated at load, so parsing cannot fail here.
func (c Config) Upstreams() []Upstream {
	var out []Upstream
	for _, name := range Services {
		raw := c.URLOf(name)
		if raw == "" {
			continue
		}
		up := Upstream{Name: name, next: new(atomic.Uint64)}
		for _, one := range strings.Split(raw, ",") {
			if u, err := parseBaseURL(strings.TrimSpace(one)); err == nil {
				up.Replicas = append(up.Replicas, u)
			}
		}
		if len(up.Replicas) == 0 {
			continue
		}
		up.URL = up.Replicas[0]
		out = append(out, up)
	}
	return out
}

// NewTransport returns the transport every call to an upstream uses: no
// proxy from the environment (upstreams are addressed directly), bytes
// passed through as they are (no transparent gzip), a short dial timeout
// so an unreachable service is reported at once, and the upstream timeout
// on response headers.
func NewTransport(c Config) *http.Transport {
	return &http.Transport{
		Proxy: nil,
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: c.UpstreamTimeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}

// ProvideTransport is NewTransport with its idle connections closed on
// stop.
func ProvideTransport(lc fx.Lifecycle, c Config) *http.Transport {
	t := NewTransport(c)
	lc.Append(fx.StopHook(t.CloseIdleConnections))
	return t
}

// ReadinessChecks returns one check per routed service, named after it:
// ready when every replica's own /readyz answers 200.
func ReadinessChecks(c Config, rt *http.Transport) []health.Check {
	client := &http.Client{
		Transport: rt,
		// A redirect from /readyz is not a ready answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var checks []health.Check
	for _, u := range c.Upstreams() {
		name, timeout, replicas := u.Name, c.ReadyTimeout, u.Replicas
		checks = append(checks, health.Check{Name: name, Probe: func(ctx context.Context) error {
			for _, r := range replicas {
				if err := probe(ctx, client, name, r.JoinPath("readyz").String(), timeout); err != nil {
					return err
				}
			}
			return nil
		}})
	}
	return checks
}

func probe(ctx context.Context, client *http.Client, name, target string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	res, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s service did not answer /readyz in time", name)
		}
		return fmt.Errorf("%s service unreachable", name)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s service not ready (HTTP %d)", name, res.StatusCode)
	}
	return nil
}
