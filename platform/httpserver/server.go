// Package httpserver is the REST side of every Pixshare service: a
// gorilla/mux router behind one middleware chain (request id, trace id,
// access log, panic recovery, CORS, body-size limit), RFC 9457 problem
// documents for every error, /healthz and /readyz, and an fx module that
// listens on start and drains on stop.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/cors"
	"go.uber.org/zap"

	"pixshare/platform/apperror"
	"pixshare/platform/health"
)

// Config is read from the environment.
type Config struct {
	// Addr is where the REST API listens.
	Addr string `env:"HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	// MaxBodyBytes caps request bodies of routes without their own limit.
	MaxBodyBytes int64 `env:"HTTP_MAX_BODY_BYTES" envDefault:"1048576"`
	// CORSOrigins lists allowed browser origins ("*" for any).
	CORSOrigins []string `env:"CORS_ALLOWED_ORIGINS" envDefault:"*" envSeparator:","`
	// ShutdownTimeout bounds the drain of in-flight requests on stop.
	ShutdownTimeout time.Duration `env:"HTTP_SHUTDOWN_TIMEOUT" envDefault:"10s"`
	// ReadTimeout and WriteTimeout bound a whole request and response, so a
	// client that stops sending (or reading) mid-body cannot hold a
	// connection forever; generous enough for a 20 MiB upload on a slow
	// link.
	ReadTimeout  time.Duration `env:"HTTP_READ_TIMEOUT" envDefault:"2m"`
	WriteTimeout time.Duration `env:"HTTP_WRITE_TIMEOUT" envDefault:"2m"`
	// HopToken is the secret shared by the gateway and the services: a
	// request carrying it in X-Pixshare-Hop-Token came from the gateway,
	// whose X-Pixshare-Client-Addr then names the client. Empty: no
	// request's word on its client is taken.
	HopToken string `env:"GATEWAY_HOP_TOKEN"`
	// TrustedProxies (CIDRs) are the proxies in front of this server
	// (the gateway's Ingress or load balancer): from them, the client is
	// the right-most X-Forwarded-For hop outside these ranges. Meant for
	// the gateway; services are reached through the gateway.
	TrustedProxies []string `env:"TRUSTED_PROXIES" envSeparator:","`

	trusted []netip.Prefix
}

// Validate checks values that parse but make no sense.
func (c *Config) Validate() error {
	if c.MaxBodyBytes <= 0 {
		return errors.New("HTTP_MAX_BODY_BYTES must be positive")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("HTTP_ADDR: %w", err)
	}
	trusted, err := ParseTrustedProxies(c.TrustedProxies)
	if err != nil {
		return err
	}
	c.trusted = trusted
	return nil
}

// Router is the service's route table. Services add their routes with
// Handle and HandlePrefix (or HandleWithLimit for bodies above the default
// limit); Mux is there for what those do not cover.
type Router struct {
	Mux    *mux.Router
	limits map[*mux.Route]int64
	logger *zap.Logger
	cfg    Config
}

// NewRouter returns a router with /healthz and /readyz registered.
func NewRouter(cfg Config, logger *zap.Logger, ready *health.Registry) *Router {
	rt := &Router{Mux: mux.NewRouter(), limits: map[*mux.Route]int64{}, logger: logger, cfg: cfg}
	rt.Mux.Use(recordRoute, limitBody(cfg.MaxBodyBytes, rt.limits))
	rt.Mux.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, logger, apperror.NotFoundf("no route for %s", r.URL.Path))
	})
	rt.Mux.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, logger, apperror.Newf(apperror.MethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path))
	})
	rt.Handle("/healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})).Methods(http.MethodGet, http.MethodHead)
	rt.Handle("/readyz", ready.Handler()).Methods(http.MethodGet, http.MethodHead)
	return rt
}

// HopToken is the secret that marks the gateway's hop (GATEWAY_HOP_TOKEN).
func (rt *Router) HopToken() string { return rt.cfg.HopToken }

// HandleWithLimit registers h for path with its own body limit.
func (rt *Router) HandleWithLimit(path string, limit int64, h http.Handler) *mux.Route {
	route := rt.Handle(path, h)
	rt.limits[route] = limit
	return route
}

// Handler is the complete handler: the outer middleware around the router.
func (rt *Router) Handler() http.Handler {
	c := cors.New(cors.Options{
		AllowedOrigins:   rt.cfg.CORSOrigins,
		AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders:   []string{"Authorization", "Content-Type", HeaderRequestID, "If-None-Match", "Idempotency-Key", HeaderPrefer},
		ExposedHeaders:   []string{HeaderRequestID, "ETag", "Retry-After", "Location", "Idempotent-Replayed", HeaderPreferenceApplied},
		MaxAge:           600,
		AllowCredentials: false,
	})
	return observe(rt.logger, func(r *http.Request) string {
		return clientAddr(r, rt.cfg.HopToken, rt.cfg.trusted)
	})(c.Handler(rt.Mux))
}

// NewServer returns an *http.Server with timeouts that keep slow clients
// from holding connections forever.
func NewServer(cfg Config, rt *Router) *http.Server {
	return &http.Server{
		Addr:              cfg.Addr,
		Handler:           rt.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// Serve listens on srv.Addr and serves in the background. It returns once
// the port is bound, so a taken port fails start-up.
func Serve(srv *http.Server, logger *zap.Logger) error {
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", srv.Addr, err)
	}
	logger.Info("http server listening", zap.String("addr", ln.Addr().String()))
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", zap.Error(err))
		}
	}()
	return nil
}

// Shutdown drains in-flight requests within cfg.ShutdownTimeout.
func Shutdown(ctx context.Context, srv *http.Server, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

func tooLarge(limit int64) error {
	return apperror.Newf(apperror.TooLarge, "request body exceeds %d bytes", limit)
}
