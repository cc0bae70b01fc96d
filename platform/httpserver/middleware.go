package httpserver

import (
	"context"
	"fmt"
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

// SetUserID records the authenticated user for the access log and adds it
// to the request-scoped logger.
func SetUserID(r *http.Request, fallback *zap.Logger, userID string) *http.Request {
	if ri := reqinfo.From(r.Context()); ri != nil {
		ri.SetUserID(userID)
	}
	l := logging.FromContext(r.Context(), fallback).With(zap.String(logging.FieldUserID, userID))
	return r.WithContext(logging.WithContext(r.Context(), l))
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

// quietPaths are probed every second by orchestrators; they log at debug.
var quietPaths = map[string]bool{"/healthz": true, "/readyz": true}

// observe is the outermost middleware: request id, trace id, request-scoped
// logger, panic recovery and one access-log line per request.
func observe(logger *zap.Logger) func(http.Handler) http.Handler {
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

			reqLog := logger.With(zap.String(logging.FieldRequestID, ri.ID), zap.String(logging.FieldTraceID, ri.TraceID))
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
				if ce := reqLog.Check(level, "request"); ce != nil {
					route := ri.Route()
					if route == "" {
						route = "unmatched"
					}
					ce.Write(
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
				WriteError(w, r, nil, tooLarge(limit))
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
			next.ServeHTTP(w, r)
		})
	}
}
