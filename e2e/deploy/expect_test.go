package deploy

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
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
	{id: "thumbnailer", httpPort: 8085, appPort: 50105},
	{id: "indexer", httpPort: 8086, appPort: 50106, database: true},
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
		"pubsub":  {"user", "post", "comment", "thumbnailer", "indexer"},
		"cache":   {"user", "post", "comment", "search", "gateway"},
		"images":  {"user", "post", "thumbnailer"},
		"secrets": {"user"},
	}
	componentFamily = map[string]string{
		"pubsub":  "pubsub.",
		"cache":   "state.",
		"images":  "bindings.",
		"secrets": "secretstores.",
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
// the Kubernetes configurations may allow. The gateway reaches the
// services' REST ports directly and calls nothing through Dapr.
var allowedCalls = []call{
	{"post", "user", "/user.v1.AuthService/Authenticate"},
	{"post", "user", "/user.v1.GraphService/*"},
	{"comment", "user", "/user.v1.AuthService/Authenticate"},
	{"comment", "user", "/user.v1.GraphService/*"},
	{"search", "user", "/user.v1.AuthService/Authenticate"},
	{"search", "user", "/user.v1.GraphService/*"},
	{"post", "user", "/user.v1.ProfileService/GetProfiles"},
	{"comment", "user", "/user.v1.ProfileService/GetProfiles"},
	{"search", "user", "/user.v1.ProfileService/GetProfiles"},
	{"thumbnailer", "user", "/user.v1.AvatarService/MarkAvatarReady"},
	{"thumbnailer", "user", "/user.v1.AvatarService/MarkAvatarFailed"},
	{"comment", "post", "/post.v1.PostService/GetPost"},
	{"search", "post", "/post.v1.PostService/GetPosts"},
	{"thumbnailer", "post", "/post.v1.PostService/GetPost"},
	{"thumbnailer", "post", "/post.v1.PostService/MarkThumbnailReady"},
	{"thumbnailer", "post", "/post.v1.PostService/MarkFailed"},
	{"indexer", "post", "/post.v1.PostService/MarkIndexed"},
	{"indexer", "post", "/post.v1.PostService/ListPosts"},
}

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
