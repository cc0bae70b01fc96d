package refs

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReadTokens(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "user.env")
	if err := os.WriteFile(p, []byte("DAPR_API_TOKEN=abc\n\n# comment\nAPP_API_TOKEN = def\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTokens(p)
	if err != nil {
		t.Fatal(err)
	}
	if got["DAPR_API_TOKEN"] != "abc" || got["APP_API_TOKEN"] != "def" || len(got) != 2 {
		t.Fatalf("got %v", got)
	}
	if _, err := ReadTokens(filepath.Join(t.TempDir(), "missing.env")); err == nil {
		t.Fatal("a missing file is no error")
	}
}

func TestArgon2ParamsAreTheUserServiceDefaults(t *testing.T) {
	t.Parallel()
	// user/internal/service: ARGON2_MEMORY_KIB=19456, ARGON2_ITERATIONS=2;
	// user/internal/adapters/password.go: one lane, 16-byte salt, 32-byte key.
	p := Argon2Params
	if p.Memory != 19456 || p.Iterations != 2 || p.Parallelism != 1 || p.SaltLength != 16 || p.KeyLength != 32 {
		t.Fatalf("params %+v drifted from the user service's", p)
	}
}

func TestRunArgon2Reports(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes for a moment")
	}
	t.Parallel()
	a, err := RunArgon2(100 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if a.OneCoreMs <= 0 || a.PerSecond <= 0 || a.Goroutines < 1 {
		t.Fatalf("%+v", a)
	}
}

// The loops of the comparison run in rounds, taking turns, and add up:
// the totals are of every round, and each round's ratios are its own.
func TestCeilingRunsInRounds(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var order []string
	last := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := "healthz"
		if strings.HasPrefix(r.URL.Path, "/v1/posts/") {
			kind = "post"
		}
		mu.Lock()
		if kind != last {
			order, last = append(order, kind), kind
		}
		mu.Unlock()
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)

	c, err := RunCeiling(t.Context(), CeilingConfig{Base: srv.URL, Workers: 2, Duration: 900 * time.Millisecond,
		Posts: []string{"a", "b"}, Token: "t", Rounds: 3})
	if err != nil {
		t.Fatal(err)
	}
	if c.Rounds != 3 || len(c.ByRound) != 3 {
		t.Fatalf("rounds %d, by round %d", c.Rounds, len(c.ByRound))
	}
	// The warming reads come first, then healthz/post, post/healthz,
	// healthz/post: each loop leads in turn, so a round begins with the
	// loop the last one ended with.
	mu.Lock()
	got := slices.Clone(order)
	mu.Unlock()
	if want := []string{"post", "healthz", "post", "healthz", "post"}; !slices.Equal(got, want) {
		t.Fatalf("loops ran in the order %v, want them to take turns: %v", got, want)
	}
	if c.Healthz.OK == 0 || c.Post.OK == 0 || c.Post.Errors+c.Healthz.Errors != 0 {
		t.Fatalf("healthz %+v, post %+v", c.Healthz, c.Post)
	}
	// All rounds together: the ratio is of the totals; each round has
	// its own (no nginx ran, so no ratio to it).
	if c.RatioPosts <= 0 || c.RatioPosts != c.Post.Goodput/c.Healthz.Goodput {
		t.Fatalf("ratio %v of %v and %v", c.RatioPosts, c.Post.Goodput, c.Healthz.Goodput)
	}
	for i, r := range c.ByRound {
		if r.PostToHealthz <= 0 || r.GatewayToNginx != 0 {
			t.Fatalf("round %d: %+v", i+1, r)
		}
	}
}
