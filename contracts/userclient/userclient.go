// Package userclient is the typed client of the user service (user.v1
// through the local sidecar) for the other services: authenticating bearer
// tokens (Auth), asking who follows and who blocks whom (Graph), and what
// each author's summary is (Profiles).
package userclient

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"pixshare/platform/auth"
	"pixshare/platform/cache"
	"pixshare/platform/config"
	"pixshare/platform/sidecar"
	userv1 "pixshare/proto/user/v1"
)

// AppID is the Dapr app id of the user service.
const AppID = "user"

// Module provides, through the app's sidecar connection, an
// auth.Authenticator that asks the user service, the auth middleware over
// it, and the Graph.
var Module = fx.Module("userclient",
	fx.Provide(
		config.Load[GraphConfig],
		func(conn *grpc.ClientConn, s cache.StampStore, logger *zap.Logger) auth.Authenticator {
			return NewAuth(userv1.NewAuthServiceClient(sidecar.NewAppConn(conn, AppID)), s, logger)
		},
		func(conn *grpc.ClientConn, s cache.StampStore, cfg GraphConfig) *Graph {
			return NewGraph(userv1.NewGraphServiceClient(sidecar.NewAppConn(conn, AppID)), s, cfg)
		},
		func(conn *grpc.ClientConn, s cache.StampStore) *Profiles {
			return NewProfiles(userv1.NewProfileServiceClient(sidecar.NewAppConn(conn, AppID)), s)
		},
	),
	auth.MiddlewareModule,
)
