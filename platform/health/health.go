// Package health answers /readyz: a service is ready when every dependency
// it registered a check for (its database, its sidecar, upstream services)
// answers within a short timeout.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"time"

	"go.uber.org/fx"
)

// Check reports whether one dependency is usable.
type Check struct {
	Name  string
	Probe func(ctx context.Context) error
}

// AsCheck annotates a constructor returning a Check so fx collects it into
// the readiness registry.
func AsCheck(f any) any {
	return fx.Annotate(f, fx.ResultTags(`group:"health_checks"`))
}

// Registry runs every registered check.
type Registry struct {
	checks  []Check
	timeout time.Duration
}

// Params collects the checks provided anywhere in the fx graph.
type Params struct {
	fx.In
	Checks []Check `group:"health_checks"`
}

// NewRegistry returns a registry of the given checks.
func NewRegistry(p Params) *Registry {
	checks := append([]Check(nil), p.Checks...)
	sort.Slice(checks, func(i, j int) bool { return checks[i].Name < checks[j].Name })
	return &Registry{checks: checks, timeout: 2 * time.Second}
}

// Result is the outcome of one run of every check.
type Result struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"`
}

// Run probes every dependency concurrently.
func (r *Registry) Run(ctx context.Context) Result {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	res := Result{Ready: true, Checks: make(map[string]string, len(r.checks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range r.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			state := "ok"
			if err := c.Probe(ctx); err != nil {
				state = err.Error()
			}
			mu.Lock()
			defer mu.Unlock()
			res.Checks[c.Name] = state
			if state != "ok" {
				res.Ready = false
			}
		}()
	}
	wg.Wait()
	return res
}

// Handler serves the result: 200 when ready, 503 otherwise.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		res := r.Run(req.Context())
		status := http.StatusOK
		if !res.Ready {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(res)
	})
}

// Module provides the registry.
var Module = fx.Module("health", fx.Provide(NewRegistry))
