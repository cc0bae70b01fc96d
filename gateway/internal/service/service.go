// Package service wires the gateway with fx.
package service

import (
	"net/http"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"pixshare/gateway/internal/docs"
	"pixshare/gateway/internal/proxy"
	"pixshare/gateway/internal/upstream"
	"pixshare/gateway/internal/webui"
	"pixshare/platform/config"
	"pixshare/platform/grpcserver"
	"pixshare/platform/httpserver"
	"pixshare/platform/sidecar"
)

// AppID is the Dapr app id.
const AppID = "gateway"

// Module is the whole gateway.
//
// The gateway makes no Dapr calls (it reaches the services' REST ports
// directly), yet runs beside a sidecar like every app: grpcserver gives the
// sidecar its app port, and sidecar contributes its readiness check. Start-up
// does not wait for the sidecar (nothing here needs its client); /readyz
// reports it.
var Module = fx.Options(
	grpcserver.Module,
	sidecar.Module,
	httpserver.Module,
	fx.Provide(
		config.Load[upstream.Config],
		upstream.ProvideTransport,
		// One readiness check per routed service, into the platform's
		// health registry (the group health.AsCheck uses).
		fx.Annotate(upstream.ReadinessChecks, fx.ResultTags(`group:"health_checks,flatten"`)),
		docs.ProvideMerger,
	),
	fx.Invoke(
		registerProxy,
		docs.Register,
		// Last: the web client answers every path the routes above do not
		// claim (mux tries routes in the order they were added).
		webui.Register,
	),
)

// registerProxy adds the routing table and closes the proxies' idle
// upstream connections on stop.
func registerProxy(lc fx.Lifecycle, rt *httpserver.Router, cfg upstream.Config, transport *http.Transport, logger *zap.Logger) {
	lc.Append(fx.StopHook(proxy.Register(rt, cfg, transport, logger)))
}
