package service_test

import (
	"testing"

	"go.uber.org/zap"

	"pixshare/platform/auth"
	"pixshare/platform/health"
	"pixshare/platform/httpserver"
	"pixshare/platform/ratelimit"
	"pixshare/post/internal/app"
	"pixshare/post/internal/ports"
)

func nopLogger() *zap.Logger { return zap.NewNop() }

// newRouterForTest registers the post routes on a bare router, to compare
// them with the document.
func newRouterForTest(t *testing.T) *httpserver.Router {
	t.Helper()
	rt := httpserver.NewRouter(httpserver.Config{MaxBodyBytes: 1 << 20}, zap.NewNop(), health.NewRegistry(health.Params{}))
	ports.RegisterHTTP(rt, &app.Service{}, auth.NewMiddleware(nil, zap.NewNop()), ratelimit.New(false),
		ports.HTTPConfig{MaxUploadBytes: 1 << 20, MaxParts: 10})
	return rt
}
