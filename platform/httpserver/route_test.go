package httpserver

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"
)

// routeTable mixes what the services register: exact paths, variables in
// the middle and at the end, constrained variables, methods, prefixes.
var routeTable = []struct {
	tpl    string
	prefix bool
	method string
}{
	{tpl: "/v1/posts/{id}/comments", prefix: true},
	{tpl: "/v1/posts", method: http.MethodPost},
	{tpl: "/v1/posts"},
	{tpl: "/v1/posts/{id}", method: http.MethodGet},
	{tpl: "/v1/posts/{id}/like", method: http.MethodPut},
	{tpl: "/v1/users/{id:[0-9a-f-]{36}}/follow"},
	{tpl: "/v1/users/{id}/{rel}", method: http.MethodGet},
	{tpl: "/v1/timelines/tag/{tag}"},
	{tpl: "/v1/search/", prefix: true},
	{tpl: "/docs/", prefix: true},
}

var routePaths = []string{
	"/", "/v1", "/v1/posts", "/v1/posts/", "/v1/posts/abc", "/v1/posts/abc/", "/v1/posts/abc/comments",
	"/v1/posts/abc/comments/", "/v1/posts/abc/comments/x", "/v1/posts/abc/like", "/v1/posts/abc/likes",
	"/v1/posts//like", "/v1/postsx", "/v1/users/0f8fad5b-d9cb-469f-a165-70867728950e/follow",
	"/v1/users/short/follow", "/v1/users/a/followers", "/v1/users/a/b/c", "/v1/timelines/tag/",
	"/v1/timelines/tag/sea", "/v1/timelines/tag/sea/x", "/v1/search", "/v1/search/", "/v1/search/q",
	"/docs", "/docs/index.html", "/healthz",
}

// The literal check only ever refuses what the route's own regular
// expression refuses too: it changes the cost of matching, not its result.
func TestLiteralMatcherIsNecessary(t *testing.T) {
	t.Parallel()
	for _, rt := range routeTable {
		plain := mux.NewRouter().NewRoute()
		if rt.prefix {
			plain.PathPrefix(rt.tpl)
		} else {
			plain.Path(rt.tpl)
		}
		check := literalMatcher(rt.tpl, rt.prefix)
		for _, p := range routePaths {
			r := httptest.NewRequest(http.MethodGet, p, nil)
			if plain.Match(r, &mux.RouteMatch{}) && !check(r, &mux.RouteMatch{}) {
				t.Errorf("%s (prefix %v) matches %s, but its literal check refuses it", rt.tpl, rt.prefix, p)
			}
		}
	}
}

// A table registered through Handle and HandlePrefix answers every request
// as the same table registered on the bare mux: the same route, the same
// variables, the same 404 and 405.
func TestHandleRoutesAsMux(t *testing.T) {
	t.Parallel()
	serve := func(useLiteral bool) func(method, path string) (int, string) {
		rt := &Router{Mux: mux.NewRouter(), limits: map[*mux.Route]int64{}}
		for i, e := range routeTable {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Route", string(rune('a'+i)))
				w.Header().Set("X-Vars", mux.Vars(r)["id"]+"|"+mux.Vars(r)["rel"]+"|"+mux.Vars(r)["tag"])
			})
			var route *mux.Route
			switch {
			case useLiteral && e.prefix:
				route = rt.HandlePrefix(e.tpl, h)
			case useLiteral:
				route = rt.Handle(e.tpl, h)
			case e.prefix:
				route = rt.Mux.PathPrefix(e.tpl).Handler(h)
			default:
				route = rt.Mux.Handle(e.tpl, h)
			}
			if e.method != "" {
				route.Methods(e.method)
			}
		}
		return func(method, path string) (int, string) {
			w := httptest.NewRecorder()
			rt.Mux.ServeHTTP(w, httptest.NewRequest(method, path, nil))
			return w.Code, w.Header().Get("X-Route") + " " + w.Header().Get("X-Vars")
		}
	}
	literal, plain := serve(true), serve(false)
	matched := 0
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		for _, p := range routePaths {
			lc, lr := literal(method, p)
			pc, pr := plain(method, p)
			if lc != pc || lr != pr {
				t.Errorf("%s %s: %d %q through Handle, %d %q through the bare mux", method, p, lc, lr, pc, pr)
			}
			if lc == http.StatusOK {
				matched++
			}
		}
	}
	if matched < 20 {
		t.Fatalf("only %d requests matched a route: the table does not exercise matching", matched)
	}
}
