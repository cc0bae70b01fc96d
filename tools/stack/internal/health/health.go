// Package health polls HTTP health endpoints of the apps and sidecars.
package health

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// pollInterval is short because everything is on loopback; a probe costs
// microseconds and a faster "ready:" is what a developer waits for.
const pollInterval = 200 * time.Millisecond

// NewClient returns a client for loopback probes: no proxy (a developer's
// HTTP_PROXY must never see these), no keep-alive pooling across restarts,
// and a short per-request timeout so one hung probe cannot eat the deadline.
func NewClient() *http.Client {
	return &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{
			Proxy:             nil,
			DialContext:       (&net.Dialer{Timeout: time.Second}).DialContext,
			DisableKeepAlives: true,
		},
	}
}

// Is2xx accepts any success status (daprd answers 204).
func Is2xx(code int) bool { return code >= 200 && code < 300 }

// Is200 accepts exactly 200, the apps' /readyz contract.
func Is200(code int) bool { return code == http.StatusOK }

// Wait polls url until accept(status) holds, returning nil, or until ctx
// ends, returning an error that includes the last status or failure seen.
func Wait(ctx context.Context, c *http.Client, url string, accept func(int) bool) error {
	last := "no answer yet"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("probe %s: %w", url, err)
		}
		resp, err := c.Do(req)
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // draining only
			resp.Body.Close()
			if accept(resp.StatusCode) {
				return nil
			}
			last = resp.Status
		} else if ctx.Err() == nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("probe %s: %w (last: %s)", url, ctx.Err(), last)
		case <-time.After(pollInterval):
		}
	}
}
