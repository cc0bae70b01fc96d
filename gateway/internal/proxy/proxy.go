// Package proxy forwards client requests to the service that owns their
// path. Every request arrives through the platform middleware (request id,
// trace context, access log, CORS, body limit) and leaves with the same
// request id and trace, X-Forwarded-* headers, and its path and query
// unchanged; responses stream back as the upstream writes them.
package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"pixshare/gateway/internal/upstream"
	"pixshare/platform/apperror"
	"pixshare/platform/httpserver"
	"pixshare/platform/logging"
	"pixshare/platform/reqinfo"
)

// retryAfter is suggested to clients when an upstream is unreachable: long
// enough for a restart, short enough not to strand a user.
const retryAfter = 5 * time.Second

// Register adds the routing table to rt: each route goes to its service,
// or answers 404 when that service is not routed (its URL is not set). It
// returns what closes the proxies' idle connections (on stop).
func Register(rt *httpserver.Router, cfg upstream.Config, transport *http.Transport, logger *zap.Logger) (closeIdle func()) {
	handlers := map[string]http.Handler{}
	var proxies []*proxy
	for _, u := range cfg.Upstreams() {
		p := newProxy(u, transport, cfg.UpstreamTimeout, rt.HopToken(), logger)
		proxies = append(proxies, p)
		handlers[u.Name] = p
	}
	upstream.AddRoutes(rt.Mux, func(r upstream.Route, exact bool, path string) *mux.Route {
		h, ok := handlers[r.Service]
		if !ok {
			h = notRouted(r.Service, logger)
		}
		switch {
		case r.Upload:
			return rt.HandleWithLimit(path, cfg.UploadMaxBytes, h)
		case exact:
			return rt.Handle(path, h)
		default:
			return rt.HandlePrefix(path, h)
		}
	})
	return func() {
		for _, p := range proxies {
			p.closeIdle()
		}
	}
}

func notRouted(service string, logger *zap.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpserver.WriteError(w, r, logger, apperror.NotFoundf("no route for %s: the %s service is not routed by this gateway", r.URL.Path, service))
	})
}

// New returns the reverse proxy to u. timeout is only reported in the 504
// problem; the transport enforces it. hopToken (GATEWAY_HOP_TOKEN) vouches
// to the service for the client address the gateway decided; empty sends
// none, and the services see only the gateway's address.
func New(u upstream.Upstream, transport *http.Transport, timeout time.Duration, hopToken string, logger *zap.Logger) http.Handler {
	return newProxy(u, transport, timeout, hopToken, logger)
}

// proxy forwards to one service: bodiless reads by the direct exchange
// (direct.go), everything else through httputil.ReverseProxy.
type proxy struct {
	u        upstream.Upstream
	rp       *httputil.ReverseProxy
	pools    map[string]*connPool
	buffers  *bufferPool
	hopToken string
	timeout  time.Duration
	log      *zap.Logger
	logf     func(format string, args ...any)
}

func newProxy(u upstream.Upstream, transport *http.Transport, timeout time.Duration, hopToken string, logger *zap.Logger) *proxy {
	log := logger.With(zap.String("upstream", u.Name))
	// ReverseProxy reports failures after the response began (an upstream
	// that broke off mid-body) through ErrorLog.
	errorLog, err := zap.NewStdLogAt(log, zap.WarnLevel)
	if err != nil {
		errorLog = zap.NewStdLog(log)
	}
	p := &proxy{
		u: u, pools: map[string]*connPool{}, buffers: newBufferPool(),
		hopToken: hopToken, timeout: timeout, log: log, logf: errorLog.Printf,
	}
	for _, r := range u.Replicas {
		if _, ok := p.pools[r.Host]; !ok {
			p.pools[r.Host] = newConnPool(r.Host, transport, transport.ResponseHeaderTimeout)
		}
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(pr.In.Context().Value(targetKey{}).(*url.URL))
			// The gateway is the edge: X-Forwarded-* from clients were
			// dropped before Rewrite and are set afresh from the connection.
			pr.SetXForwarded()
			ctx := pr.In.Context()
			// Set from what the platform middleware validated or generated,
			// not from whatever the client sent.
			if id := reqinfo.RequestID(ctx); id != "" {
				pr.Out.Header.Set(httpserver.HeaderRequestID, id)
			}
			if tp := reqinfo.TraceParent(ctx); tp != "" {
				pr.Out.Header.Set("traceparent", tp)
			}
			// The client as the gateway decided it (TRUSTED_PROXIES), for
			// the services' per-client limits; never what the client said.
			pr.Out.Header.Del(httpserver.HeaderClientAddr)
			pr.Out.Header.Del(httpserver.HeaderHopToken)
			if ri := reqinfo.From(ctx); ri != nil && ri.ClientAddr != "" && hopToken != "" {
				pr.Out.Header.Set(httpserver.HeaderClientAddr, ri.ClientAddr)
				pr.Out.Header.Set(httpserver.HeaderHopToken, hopToken)
				pr.Out.Header.Set("X-Forwarded-For", ri.ClientAddr)
			}
		},
		Transport:      transport,
		ModifyResponse: cleanResponse,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			writeProxyError(w, r, log, u.Name, timeout, err)
		},
		// Bodies are copied as they arrive; responses without a length
		// (streams) are flushed on every write.
		FlushInterval: 0,
		ErrorLog:      errorLog,
		BufferPool:    p.buffers,
	}
	return p
}

// targetKey carries the replica picked for a request into Rewrite.
type targetKey struct{}

func (p *proxy) pool(target *url.URL) *connPool { return p.pools[target.Host] }

func (p *proxy) closeIdle() {
	for _, pool := range p.pools {
		pool.closeIdle()
	}
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := p.u.Pick()
	if directEligible(r, target) {
		if err := p.direct(w, r, target); err != nil {
			writeProxyError(w, r, p.log, p.u.Name, p.timeout, err)
		}
		return
	}
	ctx := context.WithValue(r.Context(), targetKey{}, target)
	if r.Body != nil && r.Body != http.NoBody {
		watch := &bodyWatch{ReadCloser: r.Body}
		r.Body = watch
		ctx = context.WithValue(ctx, bodyWatchKey{}, watch)
	}
	p.rp.ServeHTTP(w, r.WithContext(ctx))
}

// bodyWatch remembers how reading the client's body failed, so a body that
// ends before its declared length is the client's 400, not the upstream's
// 503.
type bodyWatch struct {
	io.ReadCloser
	err error
}

type bodyWatchKey struct{}

func (b *bodyWatch) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.err = err
	}
	return n, err
}

// clientBodyError returns how reading the client's body failed, if it did.
func clientBodyError(r *http.Request) error {
	if w, ok := r.Context().Value(bodyWatchKey{}).(*bodyWatch); ok {
		return w.err
	}
	return nil
}

// cleanResponse removes what the gateway answers for itself: CORS (the
// gateway's own middleware already set it for the single origin; a second
// Access-Control-Allow-Origin makes browsers refuse the response) and the
// request id (already set, the same value).
func cleanResponse(res *http.Response) error {
	h := res.Header
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			delete(h, k)
		}
	}
	h.Del(httpserver.HeaderRequestID)
	if vary := h.Values("Vary"); len(vary) > 0 {
		var keep []string
		for _, v := range vary {
			for _, f := range strings.Split(v, ",") {
				if f = strings.TrimSpace(f); f != "" && !strings.EqualFold(f, "Origin") {
					keep = append(keep, f)
				}
			}
		}
		h.Del("Vary")
		if len(keep) > 0 {
			h.Set("Vary", strings.Join(keep, ", "))
		}
	}
	return nil
}

// writeProxyError answers a failed exchange with a problem document:
// 413 when the client's body broke the limit on the way, 504 when the
// upstream did not answer in time, 503 (with Retry-After) when it could
// not be reached or broke the connection.
func writeProxyError(w http.ResponseWriter, r *http.Request, log *zap.Logger, service string, timeout time.Duration, err error) {
	var (
		maxBytes *http.MaxBytesError
		opErr    *net.OpError
		netErr   net.Error
	)
	bodyErr := clientBodyError(r)
	switch {
	case errors.As(err, &maxBytes) || errors.As(bodyErr, &maxBytes):
		httpserver.WriteError(w, r, log, maxBytes)
	case bodyErr != nil:
		httpserver.WriteError(w, r, log, apperror.Wrap(apperror.Invalid, bodyErr,
			"the request body ended before its declared length"))
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away (after its body was read: a client that
		// half-closes mid-body gets its 400 above); nobody reads this answer. 499 is what the
		// access log shows for it (nginx's convention).
		logging.FromContext(r.Context(), log).Debug("client closed request", zap.String("upstream", service))
		w.WriteHeader(499)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		httpserver.WriteError(w, r, log, apperror.Wrap(apperror.Unavailable, err,
			fmt.Sprintf("the %s service is unavailable", service)).WithRetryAfter(retryAfter))
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		writeGatewayTimeout(w, r, log, service, timeout, err)
	default:
		httpserver.WriteError(w, r, log, apperror.Wrap(apperror.Unavailable, err,
			fmt.Sprintf("the %s service failed to answer", service)).WithRetryAfter(retryAfter))
	}
}

// writeGatewayTimeout writes a 504 problem document. The platform's error
// kinds have no gateway timeout (Unavailable is 503), so this one document
// is written here, in the shape httpserver.WriteError gives every other.
func writeGatewayTimeout(w http.ResponseWriter, r *http.Request, log *zap.Logger, service string, timeout time.Duration, err error) {
	logging.FromContext(r.Context(), log).Warn("upstream timed out", zap.String("upstream", service), zap.Error(err))
	p := httpserver.Problem{
		Type:      httpserver.ProblemTypeBase + "gateway-timeout",
		Title:     "Gateway timeout",
		Status:    http.StatusGatewayTimeout,
		Detail:    fmt.Sprintf("the %s service did not answer within %s", service, timeout),
		Instance:  r.URL.Path,
		RequestID: httpserver.RequestID(r.Context()),
	}
	w.Header().Set("Content-Type", httpserver.ProblemContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
