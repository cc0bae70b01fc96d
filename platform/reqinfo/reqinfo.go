// Package reqinfo carries what is known about the request being served —
// its id, its W3C trace context, the route it matched and the user it acts
// for — from the edge where it is learnt to everything that logs or calls
// onward (outgoing calls through Dapr continue the same trace).
package reqinfo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
)

// Info is filled in as a request travels inward: the route once the router
// matched it, the user once authenticated.
type Info struct {
	ID          string
	TraceParent string
	TraceID     string
	// ClientAddr is the client's address as the edge decided it (see
	// httpserver's client address rules), set before any handler runs.
	ClientAddr string

	mu     sync.Mutex
	route  string
	userID string
}

type key struct{}

// With returns ctx carrying info.
func With(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// From returns the request info of ctx, or nil outside a request.
func From(ctx context.Context) *Info {
	i, _ := ctx.Value(key{}).(*Info)
	return i
}

// SetRoute records the matched route template.
func (i *Info) SetRoute(route string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.route = route
}

// Route is the matched route template, or "".
func (i *Info) Route() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.route
}

// SetUserID records the authenticated user.
func (i *Info) SetUserID(id string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.userID = id
}

// UserID is the authenticated user, or "".
func (i *Info) UserID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.userID
}

// RequestID returns the id of the request in ctx, or "".
func RequestID(ctx context.Context) string {
	if i := From(ctx); i != nil {
		return i.ID
	}
	return ""
}

// TraceParent returns the W3C traceparent of the request in ctx, or "".
func TraceParent(ctx context.Context) string {
	if i := From(ctx); i != nil {
		return i.TraceParent
	}
	return ""
}

// ValidRequestID accepts client-supplied ids that are safe to log and echo.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ParseTraceParent returns the trace id of a valid W3C traceparent
// ("00-<32 hex>-<16 hex>-<2 hex>").
func ParseTraceParent(tp string) (traceID string, ok bool) {
	parts := strings.Split(tp, "-")
	if len(parts) != 4 || len(parts[0]) != 2 || len(parts[1]) != 32 || len(parts[2]) != 16 || len(parts[3]) != 2 {
		return "", false
	}
	for _, p := range parts {
		if _, err := hex.DecodeString(p); err != nil {
			return "", false
		}
	}
	if parts[1] == strings.Repeat("0", 32) || parts[2] == strings.Repeat("0", 16) {
		return "", false
	}
	return parts[1], true
}

// NewTraceParent starts a new sampled trace.
func NewTraceParent() (traceparent, traceID string) {
	var b [24]byte
	_, _ = rand.Read(b[:])
	traceID = hex.EncodeToString(b[:16])
	return "00-" + traceID + "-" + hex.EncodeToString(b[16:]) + "-01", traceID
}
