package auth

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// MiddlewareModule provides the middleware over whatever Authenticator the
// app provides (the user service its own; the others contracts/userclient's).
var MiddlewareModule = fx.Provide(func(a Authenticator, logger *zap.Logger) *Middleware {
	return NewMiddleware(a, logger)
})
