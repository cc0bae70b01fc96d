// Package mix is the traffic the load tool drives: the routes, their
// weights, a vegeta Targeter that picks a route by weight and fills in
// ids and tokens from the seeded data, and the inverse (which route a
// request was) for the report.
package mix

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"pixshare/tools/load/internal/api"
	"pixshare/tools/load/internal/seed"
)

// The routes of the mix. Each image size is a route of its own: their
// costs differ by orders of magnitude.
const (
	Login         = "login"
	Feed          = "feed"
	GetPost       = "post"
	ImageThumb    = "image_thumb"
	ImageSmall    = "image_small"
	ImageMedium   = "image_medium"
	ImageLarge    = "image_large"
	ImageOriginal = "image_original"
	Comments      = "comments"
	Comment       = "comment"
	Search        = "search"
	Autocomplete  = "autocomplete"
	Upload        = "upload"
	// Healthz is not in the mix: it is the ceiling reference.
	Healthz = "healthz"
	// Other is a request Classify does not know.
	Other = "other"
)

// Routes lists every route of the mix, in report order.
var Routes = []string{Login, Feed, GetPost, ImageThumb, ImageSmall, ImageMedium, ImageLarge, ImageOriginal,
	Comments, Comment, Search, Autocomplete, Upload}

// DefaultMix is read-heavy, as a photo app's traffic is: feeds, posts and
// thumbnails dominate; writes and logins are a few percent.
const DefaultMix = "feed=20,post=22,image_thumb=16,image_small=6,image_medium=4,image_large=2,image_original=1," +
	"comments=8,search=8,autocomplete=6,comment=3,login=2,upload=2"

// Weight is a route and its share.
type Weight struct {
	Route  string
	Weight int
}

// Weights is a mix.
type Weights []Weight

// ParseWeights reads "route=weight,…". Every route must be known and
// appear once; weights are non-negative and at least one is positive.
func ParseWeights(s string) (Weights, error) {
	var out Weights
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("mix: %q is not route=weight", part)
		}
		if !slices.Contains(Routes, name) {
			return nil, fmt.Errorf("mix: unknown route %q (routes: %s)", name, strings.Join(Routes, ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("mix: route %q given twice", name)
		}
		seen[name] = true
		w, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || w < 0 {
			return nil, fmt.Errorf("mix: weight of %s must be a non-negative integer, got %q", name, val)
		}
		if w > 0 {
			out = append(out, Weight{name, w})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("mix: no route has a positive weight in %q", s)
	}
	return out, nil
}

// Total is the sum of the weights.
func (ws Weights) Total() int {
	t := 0
	for _, w := range ws {
		t += w.Weight
	}
	return t
}

// Share returns route's fraction of the mix.
func (ws Weights) Share(route string) float64 {
	for _, w := range ws {
		if w.Route == route {
			return float64(w.Weight) / float64(ws.Total())
		}
	}
	return 0
}

func (ws Weights) String() string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.Route + "=" + strconv.Itoa(w.Weight)
	}
	return strings.Join(parts, ",")
}

// Picker draws routes in proportion to their weights.
type Picker struct {
	routes []string
	cum    []int
}

// NewPicker returns a picker of ws.
func NewPicker(ws Weights) *Picker {
	p := &Picker{}
	t := 0
	for _, w := range ws {
		t += w.Weight
		p.routes = append(p.routes, w.Route)
		p.cum = append(p.cum, t)
	}
	return p
}

// Pick returns a route, using r.
func (p *Picker) Pick(r *rand.Rand) string {
	x := r.IntN(p.cum[len(p.cum)-1])
	return p.routes[sort.SearchInts(p.cum, x+1)]
}

// Classify names the route of a request, from its method and URL.
func Classify(method, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Other
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	switch {
	case u.Path == "/healthz" && method == http.MethodGet:
		return Healthz
	case len(parts) < 2 || parts[0] != "v1":
		return Other
	case parts[1] == "users" && len(parts) == 3 && parts[2] == "login" && method == http.MethodPost:
		return Login
	case parts[1] == "feed" && len(parts) == 2 && method == http.MethodGet:
		return Feed
	case parts[1] == "search" && len(parts) == 2 && method == http.MethodGet:
		return Search
	case parts[1] == "search" && len(parts) == 3 && parts[2] == "autocomplete" && method == http.MethodGet:
		return Autocomplete
	case parts[1] != "posts":
		return Other
	case len(parts) == 2 && method == http.MethodPost:
		return Upload
	case len(parts) == 3 && method == http.MethodGet:
		return GetPost
	case len(parts) == 4 && parts[3] == "comments" && method == http.MethodGet:
		return Comments
	case len(parts) == 4 && parts[3] == "comments" && method == http.MethodPost:
		return Comment
	case len(parts) == 4 && parts[3] == "image" && method == http.MethodGet:
		size := u.Query().Get("size")
		if r := "image_" + size; slices.Contains(Routes, r) {
			return r
		}
	}
	return Other
}

// Targets builds the requests of the mix from the seeded data.
type Targets struct {
	base   string
	data   seed.Data
	ready  []string
	picker *Picker
	runID  string

	mu  sync.Mutex
	rnd *rand.Rand
	seq atomic.Uint64
	// uploads holds one prepared multipart body per picture.
	uploads []prepared
}

type prepared struct {
	body        []byte
	contentType string
}

// NewTargets prepares the targets of mix ws against base. The run id keeps
// idempotency keys unique across runs.
func NewTargets(base string, ws Weights, data seed.Data, runID string, rndSeed uint64) (*Targets, error) {
	t := &Targets{base: strings.TrimRight(base, "/"), data: data, ready: data.Ready(), picker: NewPicker(ws),
		runID: runID, rnd: seed.Rand(rndSeed)}
	if len(data.Users) == 0 || len(t.ready) == 0 {
		return nil, fmt.Errorf("mix: need seeded users and ready posts (have %d and %d)", len(data.Users), len(t.ready))
	}
	for i, img := range data.Images {
		tags := seed.PostTags(i)
		body, ct, err := api.UploadBody(img, "Load test upload #"+strings.Join(tags, " #"), tags)
		if err != nil {
			return nil, err
		}
		t.uploads = append(t.uploads, prepared{body, ct})
	}
	return t, nil
}

// choice is one draw of everything a request needs.
type choice struct {
	route  string
	user   api.User
	post   string
	tag    string
	prefix int
	upload int
}

func (t *Targets) draw() choice {
	t.mu.Lock()
	defer t.mu.Unlock()
	return choice{
		route:  t.picker.Pick(t.rnd),
		user:   t.data.Users[t.rnd.IntN(len(t.data.Users))],
		post:   t.ready[t.rnd.IntN(len(t.ready))],
		tag:    seed.Tags[t.rnd.IntN(len(seed.Tags))],
		prefix: 1 + t.rnd.IntN(3),
		upload: t.rnd.IntN(len(t.uploads)),
	}
}

// Targeter returns the vegeta Targeter of the mix; it is safe for the
// attacker's concurrent workers.
func (t *Targets) Targeter() vegeta.Targeter {
	return func(tgt *vegeta.Target) error {
		if tgt == nil {
			return vegeta.ErrNilTarget
		}
		c := t.draw()
		*tgt = t.build(c)
		return nil
	}
}

func (t *Targets) build(c choice) vegeta.Target {
	h := http.Header{"Authorization": {"Bearer " + c.user.Token}}
	get := func(path string) vegeta.Target {
		return vegeta.Target{Method: http.MethodGet, URL: t.base + path, Header: h}
	}
	postJSON := func(path string, body any) vegeta.Target {
		b, _ := json.Marshal(body) // maps of strings always encode
		h.Set("Content-Type", "application/json")
		return vegeta.Target{Method: http.MethodPost, URL: t.base + path, Header: h, Body: b}
	}
	switch c.route {
	case Login:
		return postJSON("/v1/users/login", api.LoginBody(c.user.Name))
	case Feed:
		return get("/v1/feed?limit=20")
	case GetPost:
		return get("/v1/posts/" + c.post)
	case ImageThumb, ImageSmall, ImageMedium, ImageLarge, ImageOriginal:
		return get("/v1/posts/" + c.post + "/image?size=" + strings.TrimPrefix(c.route, "image_"))
	case Comments:
		return get("/v1/posts/" + c.post + "/comments?limit=20")
	case Comment:
		return postJSON("/v1/posts/"+c.post+"/comments", map[string]string{"body": "Load test comment: nice shot."})
	case Search:
		return get("/v1/search?limit=20&tag=" + url.QueryEscape(c.tag))
	case Autocomplete:
		return get("/v1/search/autocomplete?limit=10&prefix=" + url.QueryEscape(c.tag[:min(c.prefix, len(c.tag))]))
	case Upload:
		u := t.uploads[c.upload]
		h.Set("Content-Type", u.contentType)
		h.Set("Idempotency-Key", fmt.Sprintf("ld-%s-mix-%d", t.runID, t.seq.Add(1)))
		return vegeta.Target{Method: http.MethodPost, URL: t.base + "/v1/posts", Header: h, Body: u.body}
	}
	panic("mix: no request for route " + c.route) // ParseWeights admits known routes only
}
