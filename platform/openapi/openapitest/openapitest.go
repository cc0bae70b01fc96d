// Package openapitest holds a service's REST implementation to its OpenAPI
// document: every route the router serves is documented (and the reverse),
// and every response a test receives matches the documented schema for its
// status.
package openapitest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gorilla/mux"
)

// Doc is a loaded, validated document.
type Doc struct {
	T      *openapi3.T
	router routers.Router
}

// Load parses and validates doc.
func Load(t testing.TB, doc []byte) *Doc {
	t.Helper()
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(doc)
	if err != nil {
		t.Fatalf("parse OpenAPI document: %v", err)
	}
	if err := spec.Validate(context.Background()); err != nil {
		t.Fatalf("invalid OpenAPI document: %v", err)
	}
	// Match requests by path alone: tests call the service on whatever
	// host it listens on.
	spec.Servers = nil
	r, err := gorillamux.NewRouter(spec)
	if err != nil {
		t.Fatalf("route OpenAPI document: %v", err)
	}
	return &Doc{T: spec, router: r}
}

// infrastructure routes every service has; they are not part of the API.
var infrastructure = map[string]bool{"/healthz": true, "/readyz": true, "/openapi.yaml": true}

// CheckRoutes fails t unless the router serves exactly the documented
// operations (method and path template).
func (d *Doc) CheckRoutes(t testing.TB, router *mux.Router) {
	t.Helper()
	served := map[string]bool{}
	err := router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil || infrastructure[tpl] {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			t.Errorf("route %s has no method restriction", tpl)
			return nil
		}
		for _, m := range methods {
			if m == http.MethodOptions {
				continue
			}
			served[m+" "+tpl] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range d.T.Paths.Map() {
		if infrastructure[path] {
			continue
		}
		for method := range item.Operations() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	var missing, undocumented []string
	for op := range documented {
		if !served[op] {
			missing = append(missing, op)
		}
	}
	for op := range served {
		// HEAD of a GET is the GET without its body (RFC 9110): it need
		// not be documented on its own, but when it is, it must be served.
		if !documented[op] && !strings.HasPrefix(op, http.MethodHead+" ") {
			undocumented = append(undocumented, op)
		}
	}
	sort.Strings(missing)
	sort.Strings(undocumented)
	if len(missing) > 0 {
		t.Errorf("documented but not served: %v", missing)
	}
	if len(undocumented) > 0 {
		t.Errorf("served but not documented: %v", undocumented)
	}
}

// CheckResponse fails t unless res (whose body is body) is a documented
// response of the operation req matched.
func (d *Doc) CheckResponse(t testing.TB, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	route, params, err := d.router.FindRoute(req)
	if err != nil {
		t.Errorf("%s %s: no documented operation: %v", req.Method, req.URL.Path, err)
		return
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s -> %d does not match the document: %v\nbody: %s", req.Method, req.URL.Path, res.StatusCode, err, truncate(body))
	}
}

func truncate(b []byte) string {
	if len(b) > 500 {
		return string(b[:500]) + "…"
	}
	return string(b)
}
