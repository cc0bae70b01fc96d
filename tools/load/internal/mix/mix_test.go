package mix

import (
	"math"
	"net/http"
	"strings"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"pixshare/tools/load/internal/api"
	"pixshare/tools/load/internal/seed"
)

func TestDefaultMixParsesAndCoversEveryRoute(t *testing.T) {
	t.Parallel()
	ws, err := ParseWeights(DefaultMix)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != len(Routes) {
		t.Fatalf("default mix has %d routes, want all %d", len(ws), len(Routes))
	}
	if ws.Total() != 100 {
		t.Fatalf("default weights add to %d; keep them percentages", ws.Total())
	}
	if got := ws.String(); got != DefaultMix {
		t.Fatalf("String() = %q, want %q", got, DefaultMix)
	}
}

func TestParseWeightsRefusesBadMixes(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "feed", "feed=x", "feed=-1", "nope=3", "feed=1,feed=2", "feed=0", " , "} {
		if _, err := ParseWeights(s); err == nil {
			t.Errorf("ParseWeights(%q) accepted", s)
		}
	}
	ws, err := ParseWeights(" feed = 3 , post=0, search=1 ")
	if err != nil {
		t.Fatal(err)
	}
	if ws.String() != "feed=3,search=1" || ws.Share(Feed) != 0.75 || ws.Share(GetPost) != 0 {
		t.Fatalf("got %v", ws)
	}
}

func TestPickerFollowsTheWeights(t *testing.T) {
	t.Parallel()
	ws := Weights{{Feed, 70}, {Login, 20}, {Upload, 10}}
	p := NewPicker(ws)
	r := seed.Rand(1)
	const n = 100_000
	counts := map[string]int{}
	for range n {
		counts[p.Pick(r)]++
	}
	for _, w := range ws {
		got := float64(counts[w.Route]) / n
		want := ws.Share(w.Route)
		// 5 standard deviations of a binomial proportion.
		if tol := 5 * math.Sqrt(want*(1-want)/n); math.Abs(got-want) > tol {
			t.Errorf("%s: share %.4f, want %.4f ± %.4f", w.Route, got, want, tol)
		}
	}
	if len(counts) != 3 {
		t.Fatalf("picked %v", counts)
	}
}

func TestPickerNeverPicksAZeroWeight(t *testing.T) {
	t.Parallel()
	ws, _ := ParseWeights("feed=1,post=0,login=1")
	p := NewPicker(ws)
	r := seed.Rand(2)
	for range 10_000 {
		if p.Pick(r) == GetPost {
			t.Fatal("picked a route of weight 0")
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	const b = "http://127.0.0.1:8080"
	tests := []struct{ method, url, want string }{
		{"POST", b + "/v1/users/login", Login},
		{"GET", b + "/v1/feed?limit=20", Feed},
		{"GET", b + "/v1/posts/0193", GetPost},
		{"GET", b + "/v1/posts/0193/image?size=thumb", ImageThumb},
		{"GET", b + "/v1/posts/0193/image?size=original", ImageOriginal},
		{"GET", b + "/v1/posts/0193/image?size=huge", Other},
		{"GET", b + "/v1/posts/0193/comments?limit=20", Comments},
		{"POST", b + "/v1/posts/0193/comments", Comment},
		{"GET", b + "/v1/search?tag=sea", Search},
		{"GET", b + "/v1/search/autocomplete?prefix=s", Autocomplete},
		{"POST", b + "/v1/posts", Upload},
		{"GET", b + "/healthz", Healthz},
		{"GET", b + "/v1/users/me", Other},
		{"DELETE", b + "/v1/posts/0193", Other},
		{"GET", "::bad", Other},
	}
	for _, tt := range tests {
		if got := Classify(tt.method, tt.url); got != tt.want {
			t.Errorf("Classify(%s %s) = %s, want %s", tt.method, tt.url, got, tt.want)
		}
	}
}

func testData() seed.Data {
	return seed.Data{
		Users:  []api.User{{ID: "u1", Name: "ldx_000", Token: "t1"}, {ID: "u2", Name: "ldx_001", Token: "t2"}},
		Posts:  []seed.Post{{ID: "p1", Status: "ready"}, {ID: "p2", Status: "failed"}},
		Images: [][]byte{[]byte("not decoded here")},
	}
}

// Every request the targeter builds is classified back to the route that
// was drawn, carries a token, and uses only ready posts.
func TestTargeterBuildsRequestsOfEveryRoute(t *testing.T) {
	t.Parallel()
	ws, _ := ParseWeights(DefaultMix)
	tg, err := NewTargets("http://127.0.0.1:8080/", ws, testData(), "x", 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, route := range Routes {
		c := tg.draw()
		c.route = route
		tgt := tg.build(c)
		if got := Classify(tgt.Method, tgt.URL); got != route {
			t.Errorf("%s: built %s %s, classified as %s", route, tgt.Method, tgt.URL, got)
		}
		if tgt.Header.Get("Authorization") == "" {
			t.Errorf("%s: no token", route)
		}
		if strings.Contains(tgt.URL, "p2") {
			t.Errorf("%s: used a post that is not ready: %s", route, tgt.URL)
		}
		if _, err := tgt.Request(); err != nil {
			t.Errorf("%s: %v", route, err)
		}
	}
	var tgt vegeta.Target
	keys := map[string]bool{}
	for range 200 {
		if err := tg.Targeter()(&tgt); err != nil {
			t.Fatal(err)
		}
		if tgt.Method == http.MethodPost && Classify(tgt.Method, tgt.URL) == Upload {
			k := tgt.Header.Get("Idempotency-Key")
			if keys[k] {
				t.Fatalf("idempotency key %s used twice", k)
			}
			keys[k] = true
		}
	}
}

func TestNewTargetsNeedsReadyPosts(t *testing.T) {
	t.Parallel()
	d := testData()
	d.Posts = d.Posts[1:]
	ws, _ := ParseWeights(DefaultMix)
	if _, err := NewTargets("http://x", ws, d, "x", 1); err == nil {
		t.Fatal("accepted data without a ready post")
	}
}
