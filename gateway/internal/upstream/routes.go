package upstream

import (
	"net/http"
	"net/url"

	"github.com/gorilla/mux"
)

// Route sends a path (and, with Prefix, everything below it) to a service.
type Route struct {
	Service string
	// Path is a gorilla/mux path template.
	Path string
	// Prefix also routes Path + "/…".
	Prefix bool
	// Method restricts the route to one method ("" for any).
	Method string
	// Upload gives the route GATEWAY_UPLOAD_MAX_BYTES instead of the
	// platform's default body limit.
	Upload bool
}

// Routes is the routing table. Order matters: the first match wins, so
// comments (under /v1/posts/{id}/) come before posts, and the upload routes
// (their own body limit) before the rest of /v1/posts and /v1/users.
var Routes = []Route{
	{Service: Comment, Path: "/v1/posts/{id}/comments", Prefix: true},
	{Service: Post, Path: "/v1/posts", Method: http.MethodPost, Upload: true},
	{Service: Post, Path: "/v1/posts", Prefix: true},
	{Service: Post, Path: "/v1/feed"},
	{Service: Post, Path: "/v1/timelines", Prefix: true},
	{Service: User, Path: "/v1/users/me/avatar", Method: http.MethodPut, Upload: true},
	{Service: User, Path: "/v1/users", Prefix: true},
	{Service: Search, Path: "/v1/search", Prefix: true},
}

// AddRoutes registers the table on m: handle registers one route (an
// exact path, or a prefix ending in "/") for r and returns it, so the
// caller chooses the handler and the body limit.
func AddRoutes(m *mux.Router, handle func(r Route, exact bool, path string) *mux.Route) {
	for _, r := range Routes {
		route := handle(r, true, r.Path)
		if r.Method != "" {
			route.Methods(r.Method)
		}
		if r.Prefix {
			route = handle(r, false, r.Path+"/")
			if r.Method != "" {
				route.Methods(r.Method)
			}
		}
	}
}

// owners matches paths against the same table as the gateway's router.
var owners = func() *mux.Router {
	m := mux.NewRouter()
	AddRoutes(m, func(r Route, exact bool, path string) *mux.Route {
		if exact {
			return m.Handle(path, http.NotFoundHandler()).Name(r.Service)
		}
		return m.PathPrefix(path).Handler(http.NotFoundHandler()).Name(r.Service)
	})
	return m
}()

// Owner returns the service that path is routed to, or "". It accepts
// OpenAPI path templates too ("/v1/posts/{id}/comments").
func Owner(path string) string {
	var match mux.RouteMatch
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}}
	if !owners.Match(req, &match) || match.Route == nil {
		return ""
	}
	return match.Route.GetName()
}
