package deploy

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"pixshare/contracts/postclient"
	"pixshare/contracts/userclient"
)

// app is what the operations files must agree on for one Dapr app.
type app struct {
	id       string
	httpPort int // HTTP_ADDR port (REST, or /healthz and /readyz for workers)
	appPort  int // APP_PORT: the gRPC port the sidecar calls
	database bool
}

// apps is the port plan of dapr.yaml, kept in the containers too.
var apps = []app{
	{id: "gateway", httpPort: 8080, appPort: 50100},
	{id: "user", httpPort: 8081, appPort: 50101, database: true},
	{id: "post", httpPort: 8082, appPort: 50102, database: true},
	{id: "comment", httpPort: 8083, appPort: 50103, database: true},
	{id: "search", httpPort: 8084, appPort: 50104, database: true},
	{id: "thumbnailer", httpPort: 8085, appPort: 50105, database: true},
	{id: "indexer", httpPort: 8086, appPort: 50106, database: true},
	{id: "mailer", httpPort: 8087, appPort: 50107, database: true},
}

func appByID(id string) (app, bool) {
	for _, a := range apps {
		if a.id == id {
			return a, true
		}
	}
	return app{}, false
}

// componentScopes lists, per component name, the apps that may use it, and
// componentFamily the type prefix its implementations share.
var (
	componentScopes = map[string][]string{
		"pubsub":  {"user", "post", "comment", "thumbnailer", "indexer", "mailer"},
		"cache":   {"user", "post", "comment", "search", "gateway"},
		"images":  {"user", "post", "thumbnailer"},
		"secrets": {"user"},
		"mail":    {"mailer"},
	}
	componentFamily = map[string]string{
		"pubsub":  "pubsub.",
		"cache":   "state.",
		"images":  "bindings.",
		"secrets": "secretstores.",
		"mail":    "bindings.",
	}
)

// profiles are the folders of components/. Their name resolution: SQLite
// on loopback for the profiles run by the launcher, DNS elsewhere.
var profiles = map[string]string{
	"local":    "sqlite",
	"redis":    "sqlite",
	"rabbitmq": "sqlite",
	"nats":     "sqlite",
	"mqtt":     "sqlite",
	"compose":  "kubernetes",
	"k8s":      "kubernetes",
}

// call is one service invocation through Dapr that access control allows:
// caller app id, callee app id, and a gRPC method pattern as Dapr's access
// control writes it ("/package.Service/Method", "/package.Service/*").
type call struct{ caller, callee, method string }

// allowedCalls are every call the apps make through Dapr, and the only ones
// the Kubernetes configurations may allow: the callees' caller tables in
// contracts, which the post and user apps enforce themselves on every
// profile. The gateway reaches the services' REST ports directly and calls
// nothing through Dapr.
var allowedCalls = func() []call {
	var calls []call
	for callee, table := range map[string]map[string][]string{"post": postclient.Callers(), "user": userclient.Callers()} {
		for method, callers := range table {
			for _, caller := range callers {
				calls = append(calls, call{caller, callee, method})
			}
		}
	}
	return calls
}()

// root is the repository root: the nearest parent holding go.work.
func root(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the test's directory")
		}
		dir = parent
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func sameSet(a, b []string) bool {
	a, b = sorted(a), sorted(b)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
