package daprd

import (
	"strconv"
	"strings"

	"pixshare/tools/stack/internal/runfile"
)

// Args builds daprd's command line from a merged app, flag for flag what the
// Dapr CLI passes. Empty or zero values are left out so daprd's own defaults
// apply. Unlike the CLI, no placement address is invented: nothing here runs
// a placement service, and pointing daprd at a missing one only adds noise.
func Args(app runfile.App) []string {
	var a args
	a.str("--app-id", app.AppID)
	a.port("--app-port", app.AppPort)
	a.str("--app-protocol", app.AppProtocol)
	a.str("--app-channel-address", app.AppChannelAddress)
	a.port("--dapr-http-port", app.HTTPPort)
	a.port("--dapr-grpc-port", app.GRPCPort)
	a.port("--dapr-internal-grpc-port", app.InternalGRPCPort)
	// daprd binds its internal (sidecar-to-sidecar) API to every interface
	// unless told otherwise; the local stack stays on loopback.
	a.str("--dapr-internal-grpc-listen-address", "127.0.0.1")
	a.port("--metrics-port", app.MetricsPort)
	a.str("--dapr-listen-addresses", app.APIListenAddresses)
	for _, p := range app.ResourcesPaths {
		a.str("--resources-path", p)
	}
	a.str("--config", app.ConfigFile)
	// Both spellings are passed when both are set, as the two CLI
	// generations would each pass theirs; daprd prefers the newer one.
	a.port("--dapr-http-max-request-size", app.MaxRequestSizeMB)
	a.str("--max-body-size", app.MaxBodySize)
	a.port("--dapr-http-read-buffer-size", app.ReadBufferSizeKB)
	a.str("--read-buffer-size", app.ReadBufferSize)
	a.str("--log-level", app.LogLevel)
	a.flag("--enable-app-health-check", app.EnableAppHealth)
	a.str("--app-health-check-path", app.AppHealthPath)
	a.port("--app-health-probe-interval", app.AppHealthInterval)
	a.port("--app-health-probe-timeout", app.AppHealthTimeout)
	a.port("--app-health-threshold", app.AppHealthThreshold)
	a.flag("--enable-api-logging", app.EnableAPILogging)
	a.port("--app-max-concurrency", app.MaxConcurrency)
	a.flag("--enable-profiling", app.EnableProfiling)
	if app.EnableProfiling {
		a.port("--profile-port", app.ProfilePort)
	}
	if app.PlacementHostAddr != nil {
		a.str("--placement-host-address", strings.TrimSpace(*app.PlacementHostAddr))
	}
	if app.SchedulerHostAddr != nil {
		a.str("--scheduler-host-address", strings.TrimSpace(*app.SchedulerHostAddr))
	}
	a.str("--unix-domain-socket", app.UnixDomainSocket)
	return a
}

type args []string

func (a *args) str(name, v string) {
	if v != "" {
		*a = append(*a, name, v)
	}
}

func (a *args) port(name string, v int) {
	if v > 0 {
		*a = append(*a, name, strconv.Itoa(v))
	}
}

func (a *args) flag(name string, on bool) {
	if on {
		*a = append(*a, name)
	}
}
