package service_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"

	"pixshare/gateway/internal/service"
	platformapp "pixshare/platform/app"
	"pixshare/platform/daprtest"
	"pixshare/platform/health"
)

// TestModuleWiring checks the fx graph is complete without starting
// anything (no sidecar needed).
func TestModuleWiring(t *testing.T) {
	if err := fx.ValidateApp(platformapp.Options(service.AppID, service.Module), fx.NopLogger); err != nil {
		t.Fatal(err)
	}
}

// TestGatewayBesideSidecar runs the real gateway app beside a real daprd,
// in front of a stand-in user service (a real HTTP server).
func TestGatewayBesideSidecar(t *testing.T) {
	var userReady atomic.Bool
	userReady.Store(true)
	var reached atomic.Int64
	user := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			if !userReady.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		case "/openapi.yaml":
			_, _ = io.WriteString(w, "openapi: 3.0.3\ninfo: {title: user, version: '1'}\npaths:\n  /v1/users/me:\n    get:\n      responses: {'200': {description: me}}\n")
		default:
			reached.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"path":"`+r.URL.Path+`"}`)
		}
	}))
	t.Cleanup(user.Close)

	env := daprtest.NewEnv(t)
	appPort, httpPort := daprtest.FreePort(t), daprtest.FreePort(t)
	side := env.Start(t, service.AppID, appPort)
	for k, v := range side.AppEnv() {
		t.Setenv(k, v)
	}
	base := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	t.Setenv("HTTP_ADDR", "127.0.0.1:"+strconv.Itoa(httpPort))
	t.Setenv("GATEWAY_USER_URL", user.URL)
	t.Setenv("LOG_LEVEL", "warn")

	app := fx.New(platformapp.Options(service.AppID, service.Module), fx.NopLogger)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatalf("start gateway: %v", err)
	}
	t.Cleanup(func() { _ = app.Stop(context.Background()) })
	side.WaitApp(t)

	readyz := func() (int, health.Result) {
		t.Helper()
		res, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out health.Result
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, out
	}
	if status, res := readyz(); status != http.StatusOK || res.Checks["sidecar"] != "ok" || res.Checks["user"] != "ok" {
		t.Fatalf("readyz: %d %+v", status, res)
	}

	res, err := http.Get(base + "/v1/users/me")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK || reached.Load() != 1 {
		t.Fatalf("GET /v1/users/me through the gateway: %d, upstream reached %d times", res.StatusCode, reached.Load())
	}

	res, err = http.Get(base + "/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK || len(doc) == 0 {
		t.Fatalf("GET /openapi.yaml: %d", res.StatusCode)
	}

	userReady.Store(false)
	if status, res := readyz(); status != http.StatusServiceUnavailable || res.Checks["user"] == "ok" || res.Checks["sidecar"] != "ok" {
		t.Fatalf("readyz with user not ready: %d %+v", status, res)
	}
}
