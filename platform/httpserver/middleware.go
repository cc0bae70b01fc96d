package httpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"pixshare/platform/logging"
	"pixshare/platform/reqinfo"
)

// HeaderRequestID carries the request id between client, gateway and
// services; every response echoes it.
const HeaderRequestID = "X-Request-Id"

// RequestID returns the id of the request being served, or "".
func RequestID(ctx context.Context) string { return reqinfo.RequestID(ctx) }

// WithUserID records the authenticated user for the access log and adds
// it to the request-scoped logger of ctx. It works on the context, so a
// caller derives the request once for all it adds (each derivation
// copies the request).
func WithUserID(ctx context.Context, fallback *zap.Logger, userID string) context.Context {
	if ri := reqinfo.From(ctx); ri != nil {
		ri.SetUserID(userID)
	}
	l := logging.FromContext(ctx, fallback).WithLazy(zap.String(logging.FieldUserID, userID))
	return logging.WithContext(ctx, l)
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Flush lets streamed responses (image bytes) reach the client as written.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// ReadFrom lets io.Copy reach the server's own ReadFrom, which moves a
// body from a socket (the gateway's upstream) or a file to the client in
// the kernel (splice, sendfile) instead of through a buffer.
func (s *statusRecorder) ReadFrom(src io.Reader) (int64, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	var (
		n   int64
		err error
	)
	if rf, ok := s.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{s.ResponseWriter}, src)
	}
	s.bytes += n
	return n, err
}

// writerOnly hides a writer's ReadFrom from io.Copy (which would call it
// again).
type writerOnly struct{ io.Writer }

// quietPaths are probed every second by orchestrators; they log at debug.
var quietPaths = map[string]bool{"/healthz": true, "/readyz": true}

// observe is the outermost middleware: request id, trace id, request-scoped
// logger, panic recovery and one access-log line per request.
func observe(logger *zap.Logger, client func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ri := &reqinfo.Info{ID: r.Header.Get(HeaderRequestID), TraceParent: r.Header.Get("traceparent")}
			if !reqinfo.ValidRequestID(ri.ID) {
				ri.ID = uuid.NewString()
				r.Header.Set(HeaderRequestID, ri.ID)
			}
			if id, ok := reqinfo.ParseTraceParent(ri.TraceParent); ok {
				ri.TraceID = id
			} else {
				// Start a trace here so the services behind (and their
				// sidecars) log the same trace id.
				ri.TraceParent, ri.TraceID = reqinfo.NewTraceParent()
				r.Header.Set("traceparent", ri.TraceParent)
			}
			w.Header().Set(HeaderRequestID, ri.ID)
			ri.ClientAddr = client(r)
			// Decided; nothing behind this point reads them again.
			r.Header.Del(HeaderClientAddr)
			r.Header.Del(HeaderHopToken)

			// Lazily: the request's fields are encoded into a logger of
			// its own only if something below logs (the access line
			// names them itself), not on every request.
			reqLog := logger.WithLazy(zap.String(logging.FieldRequestID, ri.ID), zap.String(logging.FieldTraceID, ri.TraceID))
			ctx := logging.WithContext(reqinfo.With(r.Context(), ri), reqLog)
			r = r.WithContext(ctx)
			rec := &statusRecorder{ResponseWriter: w}

			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					reqLog.Error("panic serving request", zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
					if rec.status == 0 {
						WriteError(rec, r, logger, fmt.Errorf("panic: %v", p))
					}
				}
				status := rec.status
				if status == 0 {
					status = http.StatusOK
				}
				level := zapcore.InfoLevel
				switch {
				case quietPaths[r.URL.Path]:
					// Probes: a 503 while starting is expected, not an error.
					level = zapcore.DebugLevel
				case status >= 500:
					level = zapcore.ErrorLevel
				}
				if ce := logger.Check(level, "request"); ce != nil {
					route := ri.Route()
					if route == "" {
						route = "unmatched"
					}
					ce.Write(
						zap.String(logging.FieldRequestID, ri.ID),
						zap.String(logging.FieldTraceID, ri.TraceID),
						zap.String("method", r.Method),
						zap.String("route", route),
						zap.Int("status", status),
						zap.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
						zap.Int64("bytes", rec.bytes),
						zap.String(logging.FieldUserID, ri.UserID()),
					)
				}
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// recordRoute runs inside mux (after matching) and records the route
// template, so access logs group /v1/users/{id} rather than every id.
func recordRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ri := reqinfo.From(r.Context()); ri != nil {
			if route := mux.CurrentRoute(r); route != nil {
				if tpl, err := route.GetPathTemplate(); err == nil {
					ri.SetRoute(tpl)
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies. Routes that accept more (uploads) are
// registered with a larger limit through Router.HandleWithLimit.
func limitBody(def int64, limits map[*mux.Route]int64) mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			limit := def
			if route := mux.CurrentRoute(r); route != nil {
				if l, ok := limits[route]; ok {
					limit = l
				}
			}
			if r.ContentLength > limit {
				w.Header().Set("Connection", "close")
				WriteError(w, r, nil, tooLarge(limit))
				lingeringClose(w, r)
				return
			}
			if r.Body == nil || r.Body == http.NoBody {
				next.ServeHTTP(w, r)
				return
			}
			// The server's own writer, not a middleware's wrapper, is
			// what learns that the limit was hit: it then closes the
			// connection after the answer instead of trying to read on.
			orig := r.Body
			limited := http.MaxBytesReader(innermost(w), orig, limit)
			r.Body = limited
			next.ServeHTTP(w, r)
			// A body without a declared length that broke the limit on
			// the way: the client is still sending it.
			var tooLarge *http.MaxBytesError
			if _, err := limited.Read(nil); errors.As(err, &tooLarge) {
				r.Body = orig
				lingeringClose(w, r)
			}
		})
	}
}

// Bounds of lingeringClose: what a refused body may still cost us.
const (
	lingerBytes = 32 << 20
	lingerTime  = 5 * time.Second
)

// lingeringClose reads and discards what the client is still sending of a
// body refused by its Content-Length, as nginx's lingering close does.
// Closing at once would leave unread bytes in the socket, and the kernel
// would answer the client's next write with a reset: most clients then
// report "broken pipe" instead of the 413 they were sent. The answer is
// flushed first, and the discarding is bounded in bytes and time, so a
// hostile client costs bandwidth but no memory.
func lingeringClose(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return
	}
	_ = rc.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, r.Body, lingerBytes)
}

// innermost unwraps middleware wrappers down to the server's writer.
func innermost(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}
