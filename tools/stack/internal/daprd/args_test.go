package daprd

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"pixshare/tools/stack/internal/runfile"
)

func TestArgs(t *testing.T) {
	placement := " localhost:50005 "
	tests := []struct {
		name string
		app  runfile.App
		want []string
	}{
		{
			name: "full pixshare app",
			app: runfile.App{
				AppID: "user", AppPort: 50101, AppChannelAddress: "127.0.0.1",
				HTTPPort: 3501, GRPCPort: 50011, InternalGRPCPort: 50021, MetricsPort: 9091,
				Shared: runfile.Shared{
					AppProtocol: "grpc", APIListenAddresses: "127.0.0.1",
					ResourcesPaths: []string{"/r/one", "/r/two"}, ConfigFile: "/r/config.yaml",
					MaxRequestSizeMB: 32, MaxBodySize: "32Mi", ReadBufferSizeKB: 4, ReadBufferSize: "4Ki",
					LogLevel: "warn",
				},
			},
			want: []string{
				"--app-id", "user", "--app-port", "50101", "--app-protocol", "grpc",
				"--app-channel-address", "127.0.0.1",
				"--dapr-http-port", "3501", "--dapr-grpc-port", "50011",
				"--dapr-internal-grpc-port", "50021", "--dapr-internal-grpc-listen-address", "127.0.0.1",
				"--metrics-port", "9091",
				"--dapr-listen-addresses", "127.0.0.1",
				"--resources-path", "/r/one", "--resources-path", "/r/two",
				"--config", "/r/config.yaml",
				"--dapr-http-max-request-size", "32", "--max-body-size", "32Mi",
				"--dapr-http-read-buffer-size", "4", "--read-buffer-size", "4Ki", "--log-level", "warn",
			},
		},
		{
			name: "zero values are left to daprd",
			app:  runfile.App{AppID: "bare"},
			want: []string{"--app-id", "bare", "--dapr-internal-grpc-listen-address", "127.0.0.1"},
		},
		{
			name: "health, logging, profiling and placement when set",
			app: runfile.App{
				AppID: "h", ProfilePort: 7777,
				Shared: runfile.Shared{
					EnableAppHealth: true, AppHealthPath: "/healthz", AppHealthInterval: 5,
					AppHealthTimeout: 500, AppHealthThreshold: 3, EnableAPILogging: true,
					MaxConcurrency: 4, EnableProfiling: true, PlacementHostAddr: &placement,
				},
			},
			want: []string{
				"--app-id", "h", "--dapr-internal-grpc-listen-address", "127.0.0.1",
				"--enable-app-health-check", "--app-health-check-path", "/healthz",
				"--app-health-probe-interval", "5", "--app-health-probe-timeout", "500",
				"--app-health-threshold", "3", "--enable-api-logging",
				"--app-max-concurrency", "4", "--enable-profiling", "--profile-port", "7777",
				"--placement-host-address", "localhost:50005",
			},
		},
		{
			name: "profile port only with profiling",
			app:  runfile.App{AppID: "p", ProfilePort: 7777},
			want: []string{"--app-id", "p", "--dapr-internal-grpc-listen-address", "127.0.0.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Args(tt.app); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Args:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSidecarEnvForcesLoopback(t *testing.T) {
	base := []string{"PATH=/bin", "DAPR_HOST_IP=10.0.0.5"}
	env := SidecarEnv(base)
	if last := env[len(env)-1]; last != "DAPR_HOST_IP=127.0.0.1" {
		t.Errorf("last entry %q; the forced value must come last to win", last)
	}
	if !slices.Contains(env, "PATH=/bin") {
		t.Error("launcher environment not inherited")
	}
	if len(base) != 2 || base[1] != "DAPR_HOST_IP=10.0.0.5" {
		t.Error("base slice modified")
	}
}

func TestAppEnv(t *testing.T) {
	app := runfile.App{
		AppID: "user", AppPort: 50101, HTTPPort: 3501, GRPCPort: 50011, MetricsPort: 9091,
		Shared: runfile.Shared{AppProtocol: "GRPC", Env: map[string]string{"HTTP_ADDR": "127.0.0.1:8081", "APP_ID": "override"}},
	}
	got := AppEnv([]string{"HOME=/h"}, app)
	want := []string{
		"HOME=/h", "APP_ID=user", "APP_PORT=50101", "DAPR_HTTP_PORT=3501", "DAPR_GRPC_PORT=50011",
		"DAPR_METRICS_PORT=9091", "APP_PROTOCOL=grpc", "APP_ID=override", "HTTP_ADDR=127.0.0.1:8081",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AppEnv:\n got %q\nwant %q", got, want)
	}
	// Unset ports are not exported as 0.
	for _, kv := range AppEnv(nil, runfile.App{AppID: "w"}) {
		if strings.HasSuffix(kv, "=0") {
			t.Errorf("zero port exported: %s", kv)
		}
	}
}
