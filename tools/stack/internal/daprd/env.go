package daprd

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"pixshare/tools/stack/internal/runfile"
)

// SidecarEnv is daprd's environment: the launcher's own plus DAPR_HOST_IP
// forced to loopback, so that sidecars register 127.0.0.1 in the SQLite name
// resolution table instead of whatever interface they would guess (and never
// reach for mDNS). A later duplicate key wins in os/exec, so appending is enough.
func SidecarEnv(base []string) []string {
	return append(slices.Clip(base), "DAPR_HOST_IP=127.0.0.1")
}

// AppEnv is the app's environment as the Dapr CLI builds it: the launcher's
// own, then the variables describing the app and its sidecar, then the
// merged `env` map of the run file (last, so it wins).
func AppEnv(base []string, app runfile.App) []string {
	env := slices.Clip(base)
	add := func(k, v string) { env = append(env, k+"="+v) }
	addPort := func(k string, v int) {
		if v > 0 {
			add(k, strconv.Itoa(v))
		}
	}
	add("APP_ID", app.AppID)
	if app.AppChannelAddress != "" {
		add("APP_CHANNEL_ADDRESS", app.AppChannelAddress)
	}
	addPort("APP_PORT", app.AppPort)
	addPort("DAPR_HTTP_PORT", app.HTTPPort)
	addPort("DAPR_GRPC_PORT", app.GRPCPort)
	addPort("DAPR_METRICS_PORT", app.MetricsPort)
	if p := strings.ToLower(app.AppProtocol); p != "" {
		add("APP_PROTOCOL", p)
	}
	for _, k := range slices.Sorted(maps.Keys(app.Env)) {
		add(k, app.Env[k])
	}
	return env
}
