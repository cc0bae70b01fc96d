package auth

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"pixshare/platform/config"
	"pixshare/platform/sidecar"
	userv1 "pixshare/proto/user/v1"
)

// UserAppID is the Dapr app id of the user service.
const UserAppID = "user"

// ClientModule provides an Authenticator that asks the user service through
// the sidecar, and the HTTP middleware. The user service itself provides its
// own Authenticator and only uses MiddlewareModule.
var ClientModule = fx.Module("auth",
	fx.Provide(
		config.Load[Config],
		func(conn *grpc.ClientConn) userv1.AuthServiceClient {
			return userv1.NewAuthServiceClient(sidecar.NewAppConn(conn, UserAppID))
		},
		fx.Annotate(NewClient, fx.As(new(Authenticator))),
	),
	MiddlewareModule,
)

// MiddlewareModule provides the middleware over whatever Authenticator the
// app provides.
var MiddlewareModule = fx.Provide(func(a Authenticator, logger *zap.Logger) *Middleware {
	return NewMiddleware(a, logger)
})
