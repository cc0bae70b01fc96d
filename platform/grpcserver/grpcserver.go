// Package grpcserver is the gRPC side of every Pixshare app: one
// grpc.Server on the app port that carries the app's own services and
// Dapr's AppCallback (proxied calls arrive on the same port), with
// recovery, access logging, apperror mapping and, when APP_API_TOKEN is
// set, a check that callers are the app's sidecar. Pub/sub deliveries pushed
// to the port are refused: apps take them over their own stream to the
// sidecar (platform/pubsub).
package grpcserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	daprcommon "github.com/dapr/go-sdk/service/common"
	daprgrpc "github.com/dapr/go-sdk/service/grpc"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"pixshare/platform/apperror"
	"pixshare/platform/config"
	"pixshare/platform/logging"
	"pixshare/platform/reqinfo"
)

// Config is read from the environment; `dapr run` and `make run` set
// APP_PORT to the port the sidecar calls.
type Config struct {
	Host string `env:"APP_HOST" envDefault:"127.0.0.1"`
	// Port 0 picks a free port (tests).
	Port int `env:"APP_PORT" envDefault:"0"`
	// APIToken, when set, must accompany every call (Dapr sends it as
	// dapr-api-token), so only the sidecar can reach the app.
	APIToken        string `env:"APP_API_TOKEN"`
	MaxMessageBytes int    `env:"APP_MAX_MESSAGE_BYTES" envDefault:"67108864"`
}

// Addr is the listen address.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// Server is the app's gRPC server plus its Dapr callback service.
type Server struct {
	GRPC     *grpc.Server
	Callback daprcommon.Service
	listener net.Listener
	health   *health.Server
	logger   *zap.Logger
}

// Callers says which app ids may call a method through Dapr: full method
// name ("/post.v1.PostService/MarkIndexed") → allowed app ids. A method
// not listed may not be called through Dapr, as with Dapr's deny-by-default
// access-control policies. A service that serves others supplies its table
// (from contracts) with fx.Supply; without one, nothing is checked.
type Callers map[string][]string

// New listens on cfg.Addr() and builds the server. Listening here (not in
// Start) lets tests learn the port before the sidecar starts.
func New(cfg Config, logger *zap.Logger) (*Server, error) {
	return NewWithCallers(cfg, nil, logger)
}

// NewWithCallers is New with a caller policy.
func NewWithCallers(cfg Config, callers Callers, logger *zap.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}
	srv := grpc.NewServer(
		grpc.MaxRecvMsgSize(cfg.MaxMessageBytes),
		grpc.MaxSendMsgSize(cfg.MaxMessageBytes),
		grpc.ChainUnaryInterceptor(
			requestContext(logger),
			accessLog(logger),
			recovery(logger),
			requireToken(cfg.APIToken),
			allowCallers(callers),
			mapErrors,
		),
	)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	return &Server{
		GRPC:     srv,
		Callback: daprgrpc.NewServiceWithGrpcServer(ln, srv),
		listener: ln,
		health:   hs,
		logger:   logger,
	}, nil
}

// Port is the bound port.
func (s *Server) Port() int { return s.listener.Addr().(*net.TCPAddr).Port }

// Start serves in the background.
func (s *Server) Start() {
	s.logger.Info("grpc server listening", zap.String("addr", s.listener.Addr().String()))
	go func() {
		if err := s.Callback.Start(); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.logger.Error("grpc server stopped", zap.Error(err))
		}
	}()
}

// Stop drains in-flight calls (pub/sub deliveries finish, so nothing is lost
// on SIGTERM), then stops hard when ctx ends.
func (s *Server) Stop(ctx context.Context) {
	s.health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.GRPC.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.GRPC.Stop()
	}
}

// requestContext gives each call a request-scoped logger and request info
// from the metadata Dapr forwards (traceparent, x-request-id).
func requestContext(logger *zap.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		ri := &reqinfo.Info{ID: first(md, "x-request-id"), TraceParent: first(md, "traceparent")}
		if !reqinfo.ValidRequestID(ri.ID) {
			ri.ID = ""
		}
		fields := []zap.Field{}
		if ri.ID != "" {
			fields = append(fields, zap.String(logging.FieldRequestID, ri.ID))
		}
		if id, ok := reqinfo.ParseTraceParent(ri.TraceParent); ok {
			ri.TraceID = id
			fields = append(fields, zap.String(logging.FieldTraceID, id))
		} else {
			ri.TraceParent = ""
		}
		ri.SetRoute(info.FullMethod)
		ctx = logging.WithContext(reqinfo.With(ctx, ri), logger.With(fields...))
		return handler(ctx, req)
	}
}

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Dapr's own callbacks are frequent and logged by the handlers they reach.
func isDaprCallback(method string) bool {
	return strings.HasPrefix(method, "/dapr.proto.runtime.v1.AppCallback") || strings.HasPrefix(method, "/grpc.health.v1.")
}

func accessLog(logger *zap.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		code := status.Code(err)
		level := zapcore.InfoLevel
		switch {
		case code == codes.Internal || code == codes.Unknown:
			level = zapcore.ErrorLevel
		case isDaprCallback(info.FullMethod):
			level = zapcore.DebugLevel
		}
		log := logging.FromContext(ctx, logger)
		if ce := log.Check(level, "rpc"); ce != nil {
			fields := []zap.Field{
				zap.String("method", info.FullMethod),
				zap.String("code", code.String()),
				zap.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			}
			if level == zapcore.ErrorLevel {
				fields = append(fields, zap.Error(err))
			}
			ce.Write(fields...)
		}
		return resp, err
	}
}

func recovery(logger *zap.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				logging.FromContext(ctx, logger).Error("panic serving rpc",
					zap.String("method", info.FullMethod), zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(ctx, req)
	}
}

// Methods Dapr calls on every app that carry nothing but metadata: the
// sidecar asks them at start-up without the app token (Dapr 1.14 sends the
// token only through its app channel's InvokeMethod, i.e. OnInvoke and
// proxied calls), and an answer tells a caller nothing secret.
var openMethods = map[string]bool{
	"/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions": true,
	"/dapr.proto.runtime.v1.AppCallback/ListInputBindings":      true,
	"/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck": true,
}

// Deliveries Dapr would push to the app's port. Dapr 1.14 calls them
// without the app token (pkg/runtime/subscription/publish.go dials the
// app's port with no credentials), so anything that can reach the port
// could forge one. Pixshare apps take their events over a stream they open
// to their own sidecar instead (platform/pubsub), so these are refused
// outright, token or not, on every profile.
var deliveryMethods = map[string]bool{
	"/dapr.proto.runtime.v1.AppCallback/OnTopicEvent":                true,
	"/dapr.proto.runtime.v1.AppCallback/OnBindingEvent":              true,
	"/dapr.proto.runtime.v1.AppCallbackAlpha/OnBulkTopicEventAlpha1": true,
	"/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1":       true,
}

// requireToken refuses deliveries pushed to the port, and every other call
// but the open ones without the app API token when one is set: proxied
// calls and OnInvoke carry it.
func requireToken(token string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if deliveryMethods[info.FullMethod] {
			return nil, status.Error(codes.PermissionDenied, "deliveries arrive only over the app's own subscription stream")
		}
		if token == "" || openMethods[info.FullMethod] || strings.HasPrefix(info.FullMethod, "/grpc.health.v1.") {
			return handler(ctx, req)
		}
		// Dapr 1.14 forwards a proxied call's metadata, including the
		// calling app's own dapr-api-token, and appends ours after it, so
		// any value may be the one to match.
		md, _ := metadata.FromIncomingContext(ctx)
		for _, v := range md.Get("dapr-api-token") {
			if subtle.ConstantTimeCompare([]byte(v), []byte(token)) == 1 {
				return handler(ctx, req)
			}
		}
		return nil, status.Error(codes.Unauthenticated, "missing or wrong app API token")
	}
}

// allowCallers enforces Callers on calls proxied by Dapr. The calling
// sidecar appends its own app id to dapr-caller-app-id after whatever the
// calling app sent, so the last value is the caller's true id as far as
// sidecars go. Dapr's own access-control policies need mTLS (a SPIFFE
// identity) to tell callers apart, which only the k8s profile has; this
// check holds on every profile. A call without the metadata did not come
// through a sidecar: the app API token (requireToken) guards that path.
func allowCallers(callers Callers) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		ids := md.Get("dapr-caller-app-id")
		if callers == nil || len(ids) == 0 {
			return handler(ctx, req)
		}
		allowed := callers[info.FullMethod] // unlisted: nobody, as Dapr's deny-by-default policies
		caller := ids[len(ids)-1]
		for _, id := range allowed {
			if id == caller {
				return handler(ctx, req)
			}
		}
		return nil, status.Errorf(codes.PermissionDenied, "%s may not call %s", caller, info.FullMethod)
	}
}

// mapErrors turns apperror kinds into gRPC status codes at the edge.
func mapErrors(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	if err != nil {
		if apperror.KindOf(err) == apperror.Internal {
			if _, isStatus := status.FromError(err); !isStatus {
				logging.FromContext(ctx, zap.NewNop()).Error("rpc failed", zap.String("method", info.FullMethod), zap.Error(err))
			}
		}
		return resp, apperror.ToGRPC(err)
	}
	return resp, nil
}

// Module provides the Server; it serves from OnStart and drains in OnStop.
// Put it before sidecar.Module so the app port is open when the sidecar
// looks for it.
var Module = fx.Module("grpcserver",
	fx.Provide(config.Load[Config], func(cfg Config, p struct {
		fx.In
		Callers Callers `optional:"true"`
	}, logger *zap.Logger) (*Server, error) {
		return NewWithCallers(cfg, p.Callers, logger)
	}),
	fx.Invoke(func(lc fx.Lifecycle, s *Server) {
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error { s.Start(); return nil },
			OnStop:  func(ctx context.Context) error { s.Stop(ctx); return nil },
		})
	}),
)
