package ports

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"pixshare/platform/apperror"
	"pixshare/platform/auth"
	"pixshare/platform/cache"
	"pixshare/platform/cache/cachetest"
	"pixshare/platform/database/dbtest"
	"pixshare/platform/health"
	"pixshare/platform/httpserver"
	"pixshare/platform/openapi/openapitest"
	"pixshare/search/api"
	"pixshare/search/internal/adapters/sqlengine"
	"pixshare/search/internal/app"
	"pixshare/search/internal/domain"
)

// tokens is a hand-written Authenticator: token "u:<id>" is user <id>.
type tokens struct{}

func (tokens) Authenticate(_ context.Context, token string) (auth.Principal, error) {
	if len(token) > 2 && token[:2] == "u:" {
		return auth.Principal{UserID: token[2:]}, nil
	}
	return auth.Principal{}, apperror.Unauthenticatedf("bad token")
}

// blocks is a hand-written app.Blocks.
type blocks map[string][]string

func (b blocks) Blocked(_ context.Context, user string) ([]string, error) { return b[user], nil }

// memCache is a hand-written cache.Cache that counts hits.
type memCache struct {
	mu   sync.Mutex
	m    map[string]any
	hits int
}

func (c *memCache) Get(_ context.Context, k string, dst any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	if ok {
		c.hits++
		switch d := dst.(type) {
		case *domain.Result:
			*d = v.(domain.Result)
		case *[]domain.TagCount:
			*d = v.([]domain.TagCount)
		}
	}
	return ok
}

func (c *memCache) Set(_ context.Context, k string, v any, _ time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = v
}

func (c *memCache) Delete(_ context.Context, k string) {}

var _ cache.Cache = (*memCache)(nil)

// authors is a hand-written app.Authors: every author is known, named
// after their id.
type authors struct{}

func (authors) Get(_ context.Context, ids []string) (map[string]app.Author, error) {
	out := map[string]app.Author{}
	for _, id := range ids {
		out[id] = app.Author{ID: id, Username: id}
	}
	return out, nil
}

// livePosts is a hand-written app.LivePosts: the read model's docs are the
// live posts, except the ids in gone (deleted since they were indexed).
type livePosts struct {
	engine app.Engine
	mu     sync.Mutex
	gone   map[string]bool
}

func (l *livePosts) Live(ctx context.Context, _ string, ids []string) ([]domain.Doc, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []domain.Doc
	for _, id := range ids {
		if d, ok, err := l.engine.Get(ctx, id); err == nil && ok && !l.gone[id] {
			out = append(out, d)
		}
	}
	return out, nil
}

type fixture struct {
	srv    *httptest.Server
	engine app.Engine
	doc    *openapitest.Doc
	cache  *memCache
	rt     *httpserver.Router
	live   *livePosts
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := dbtest.SQLite(t)
	if err := sqlengine.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	engine := sqlengine.New(db)
	c := &memCache{m: map[string]any{}}
	live := &livePosts{engine: engine, gone: map[string]bool{}}
	svc := app.NewService(engine, blocks{"bob": {"alice"}}, live, authors{}, c, &cachetest.Stamps{}, time.Minute)
	rt := httpserver.NewRouter(httpserver.Config{MaxBodyBytes: 1 << 20, CORSOrigins: []string{"*"}}, zap.NewNop(), health.NewRegistry(health.Params{}))
	RegisterHTTP(rt, svc, auth.NewMiddleware(tokens{}, zap.NewNop()))
	srv := httptest.NewServer(rt.Handler())
	t.Cleanup(srv.Close)
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, d := range []domain.Doc{
		{PostID: "p1", AuthorID: "alice", Caption: "Sunset", Tags: []string{"sunset", "sea"}, Version: 1},
		{PostID: "p2", AuthorID: "carol", Caption: "Sunset again", Tags: []string{"sunset"}, Version: 1},
	} {
		d.CreatedAt = at.Add(time.Duration(i) * time.Minute)
		d.UpdatedAt = d.CreatedAt
		if _, err := engine.Upsert(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{srv: srv, engine: engine, doc: openapitest.Load(t, api.OpenAPI), cache: c, rt: rt, live: live}
}

func (f *fixture) get(t *testing.T, path, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	f.doc.CheckResponse(t, req, res, body)
	return res.StatusCode, body
}

func TestRoutesMatchDocument(t *testing.T) {
	f := newFixture(t)
	f.doc.CheckRoutes(t, f.rt.Mux)
}

func TestSearchHTTP(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path, token string
		status      int
		contains    string
		excludes    string
	}{
		{"/v1/search?tag=sunset", "", 200, `"total":2`, ""},
		{"/v1/search?tag=%23Sunset&tag=sea", "", 200, `"p1"`, `"p2"`},
		{"/v1/search?tag=sunset", "u:bob", 200, `"total":1`, `"p1"`},
		{"/v1/search?q=again", "", 200, `"p2"`, `"p1"`},
		{"/v1/search?tag=sunset&limit=1", "", 200, `"thumbnail_url":"/v1/posts/p2/image?size=thumb"`, `"p1"`},
		{"/v1/search?tag=sunset&limit=500", "", 200, `"total":2`, ""},
		{"/v1/search", "", 400, "tag", ""},
		{"/v1/search?tag=not+a+tag", "", 400, "", ""},
		{"/v1/search?tag=sunset&offset=-1", "", 400, "offset", ""},
		{"/v1/search?tag=sunset&limit=zero", "", 400, "limit", ""},
		{"/v1/search?tag=sunset", "garbage", 401, "", ""},
		{"/v1/search/autocomplete?prefix=su", "", 200, `{"tag":"sunset","count":2}`, ""},
		{"/v1/search/autocomplete?prefix=su", "u:bob", 200, `{"tag":"sunset","count":1}`, ""},
		{"/v1/search/autocomplete?prefix=", "", 400, "prefix", ""},
		{"/v1/search/autocomplete?prefix=%27%3B+DROP", "", 400, "", ""},
	}
	for _, tt := range tests {
		status, body := f.get(t, tt.path, tt.token)
		if status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.path, status, tt.status, body)
			continue
		}
		if tt.contains != "" && !contains(body, tt.contains) {
			t.Errorf("%s: body lacks %s: %s", tt.path, tt.contains, body)
		}
		if tt.excludes != "" && contains(body, tt.excludes) {
			t.Errorf("%s: body has %s: %s", tt.path, tt.excludes, body)
		}
	}
}

// TestCacheNeverOutlivesAChange: a cached page is reused while the read
// model is unchanged, and not after a removal was indexed.
func TestCacheNeverOutlivesAChange(t *testing.T) {
	f := newFixture(t)
	_, first := f.get(t, "/v1/search?tag=sunset", "")
	_, again := f.get(t, "/v1/search?tag=sunset", "")
	if f.cache.hits != 1 || string(first) != string(again) {
		t.Fatalf("the second identical search was not served from the cache (hits %d)", f.cache.hits)
	}
	if _, err := f.engine.Remove(context.Background(), "p2", 2); err != nil {
		t.Fatal(err)
	}
	_, after := f.get(t, "/v1/search?tag=sunset", "")
	if contains(after, `"p2"`) {
		t.Fatalf("a removed post was served from the cache: %s", after)
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

func TestDeletedPostIsNeverAHit(t *testing.T) {
	f := newFixture(t)
	if _, body := f.get(t, "/v1/search?tag=sunset", ""); !contains(body, `"p2"`) {
		t.Fatalf("p2 missing before its deletion: %s", body)
	}
	// The post is deleted; the index has not heard yet (its removal is on
	// the way through the broker), and the page is in the cache.
	f.live.mu.Lock()
	f.live.gone["p2"] = true
	f.live.mu.Unlock()
	if _, body := f.get(t, "/v1/search?tag=sunset", ""); contains(body, `"p2"`) {
		t.Fatalf("a deleted post was a hit on the next request: %s", body)
	}
}
