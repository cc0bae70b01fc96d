// Package sidecar connects an app to its own Dapr sidecar: one gRPC
// connection carries the Dapr API (go-sdk client) and the service-to-service
// calls that Dapr proxies to other apps (metadata dapr-app-id).
//
// The connection raises gRPC's 4 MiB message limit (uploads pass through the
// sidecar as binding payloads), adds the Dapr API token when one is set,
// continues the caller's W3C trace, and maps gRPC status codes from other
// services back into apperror kinds.
package sidecar

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"pixshare/platform/apperror"
	"pixshare/platform/config"
	"pixshare/platform/health"
	"pixshare/platform/reqinfo"
)

// Config is read from the environment; `dapr run` and `make run` set the
// ports.
type Config struct {
	Host     string `env:"DAPR_HOST" envDefault:"127.0.0.1"`
	GRPCPort int    `env:"DAPR_GRPC_PORT" envDefault:"50001"`
	HTTPPort int    `env:"DAPR_HTTP_PORT" envDefault:"3500"`
	// APIToken authenticates the app to its sidecar (dapr-api-token).
	APIToken string `env:"DAPR_API_TOKEN"`
	// WaitTimeout bounds how long start-up waits for the sidecar.
	WaitTimeout time.Duration `env:"DAPR_WAIT_TIMEOUT" envDefault:"60s"`
	// MaxMessageBytes is the largest gRPC message sent or received; it must
	// exceed the upload limit.
	MaxMessageBytes int `env:"DAPR_MAX_MESSAGE_BYTES" envDefault:"67108864"`
}

// GRPCAddr is the sidecar's gRPC API address.
func (c Config) GRPCAddr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.GRPCPort)) }

// HTTPAddr is the sidecar's HTTP API address.
func (c Config) HTTPAddr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.HTTPPort)) }

// Dial opens the connection to the sidecar. It does not wait for it.
func Dial(cfg Config) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(cfg.GRPCAddr(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(cfg.MaxMessageBytes),
			grpc.MaxCallSendMsgSize(cfg.MaxMessageBytes),
		),
		grpc.WithChainUnaryInterceptor(outgoingMetadata(cfg.APIToken), mapErrors),
		grpc.WithChainStreamInterceptor(outgoingStreamMetadata(cfg.APIToken)),
	)
	if err != nil {
		return nil, fmt.Errorf("dial dapr sidecar at %s: %w", cfg.GRPCAddr(), err)
	}
	return conn, nil
}

func withMetadata(ctx context.Context, token string) context.Context {
	if token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "dapr-api-token", token)
	}
	if tp := reqinfo.TraceParent(ctx); tp != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", tp)
	}
	if id := reqinfo.RequestID(ctx); id != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "x-request-id", id)
	}
	return ctx
}

func outgoingMetadata(token string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(withMetadata(ctx, token), method, req, reply, cc, opts...)
	}
}

func outgoingStreamMetadata(token string) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return streamer(withMetadata(ctx, token), desc, cc, method, opts...)
	}
}

// mapErrors turns gRPC statuses into apperror kinds, so a NotFound from the
// user service stays a NotFound in the caller.
func mapErrors(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return apperror.FromGRPC(invoker(ctx, method, req, reply, cc, opts...))
}

// AppConn is a connection to another app through the local sidecar: each
// call carries dapr-app-id, and Dapr routes it (with mTLS, resiliency and
// access control) to that app. Generated gRPC clients take it unchanged.
type AppConn struct {
	conn  *grpc.ClientConn
	appID string
}

// NewAppConn returns a connection to appID through conn.
func NewAppConn(conn *grpc.ClientConn, appID string) *AppConn {
	return &AppConn{conn: conn, appID: appID}
}

// Invoke implements grpc.ClientConnInterface.
func (a *AppConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	ctx = metadata.AppendToOutgoingContext(ctx, "dapr-app-id", a.appID)
	return a.conn.Invoke(ctx, method, args, reply, opts...)
}

// NewStream implements grpc.ClientConnInterface.
func (a *AppConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	ctx = metadata.AppendToOutgoingContext(ctx, "dapr-app-id", a.appID)
	return a.conn.NewStream(ctx, desc, method, opts...)
}

// Wait blocks until the sidecar's outbound side is ready (components
// loaded), or the timeout passes.
func Wait(ctx context.Context, cfg Config) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.WaitTimeout)
	defer cancel()
	url := fmt.Sprintf("http://%s/v1.0/healthz/outbound", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.HTTPPort)))
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = probe(ctx, url, cfg.APIToken); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dapr sidecar not ready at %s after %s: %w", cfg.GRPCAddr(), cfg.WaitTimeout, last)
		case <-tick.C:
		}
	}
}

// Probe checks the sidecar answers its health endpoint; readiness uses it.
func Probe(ctx context.Context, cfg Config) error {
	url := fmt.Sprintf("http://%s/v1.0/healthz/outbound", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.HTTPPort)))
	return probe(ctx, url, cfg.APIToken)
}

func probe(ctx context.Context, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("dapr-api-token", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return errors.New("dapr sidecar unreachable")
	}
	_ = res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("dapr sidecar not ready (HTTP %d)", res.StatusCode)
	}
	return nil
}

// Module provides the sidecar connection and the go-sdk client, and makes
// start-up wait for the sidecar (in OnStart, never a sleep loop in main).
var Module = fx.Module("sidecar",
	fx.Provide(
		config.Load[Config],
		func(lc fx.Lifecycle, cfg Config, logger *zap.Logger) (*grpc.ClientConn, error) {
			conn, err := Dial(cfg)
			if err != nil {
				return nil, err
			}
			lc.Append(fx.Hook{
				OnStart: func(ctx context.Context) error {
					if err := Wait(ctx, cfg); err != nil {
						return err
					}
					logger.Info("dapr sidecar ready", zap.String("addr", cfg.GRPCAddr()))
					return nil
				},
				OnStop: func(context.Context) error { return conn.Close() },
			})
			return conn, nil
		},
		func(conn *grpc.ClientConn) dapr.Client { return dapr.NewClientWithConnection(conn) },
		health.AsCheck(func(cfg Config) health.Check {
			return health.Check{Name: "sidecar", Probe: func(ctx context.Context) error { return Probe(ctx, cfg) }}
		}),
	),
)
