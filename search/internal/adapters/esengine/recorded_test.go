package esengine

// THESE TESTS USE RECORDINGS, NOT AN ELASTICSEARCH CLUSTER.
//
// Each file in testdata/recorded/ is a scripted conversation: the exact
// requests the adapter must send (method, path, query parameters, JSON or
// NDJSON body compared structurally, basic auth) and, for each, a response
// whose shape is copied from Elasticsearch 8's reference documentation (the
// page is named in the file's "sources"; "adapted" says what was changed
// from the documented example, such as index names and ids). An httptest
// server replays the script in order; a request that differs, an extra
// request or a missing one fails the test.
//
// What this proves: the adapter speaks the documented API — the requests it
// builds and the way it reads documented answers. What it cannot prove:
// that Elasticsearch evaluates those requests as intended (analysis, query
// semantics, versioning, aggregation counts). TestContract in
// contract_test.go checks that against a real cluster when
// ELASTICSEARCH_URL is set.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"pixshare/platform/apperror"
	"pixshare/search/internal/domain"
)

type recording struct {
	Description string     `json:"description"`
	Sources     []struct{} `json:"sources"`
	Exchanges   []exchange `json:"exchanges"`
}

type exchange struct {
	Name    string `json:"name"`
	Request struct {
		Method string            `json:"method"`
		Path   string            `json:"path"`
		Query  map[string]string `json:"query"`
		Body   json.RawMessage   `json:"body"`
		NDJSON []json.RawMessage `json:"ndjson"`
		Auth   *struct {
			Username string `json:"username"`
			Password string `json:"password"`
		} `json:"auth"`
	} `json:"request"`
	Response struct {
		Status int             `json:"status"`
		Body   json.RawMessage `json:"body"`
	} `json:"response"`
	// Times the same exchange repeats (client retries); default 1.
	Times int `json:"times"`
}

func loadRecording(t *testing.T, name string) recording {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "recorded", name))
	if err != nil {
		t.Fatal(err)
	}
	var rec recording
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&rec); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(rec.Sources) == 0 || len(rec.Exchanges) == 0 {
		t.Fatalf("%s: a recording needs sources and exchanges", name)
	}
	return rec
}

// replay serves the recording and returns its URL; at the end of the test
// every exchange must have been requested.
func replay(t *testing.T, name string) string {
	t.Helper()
	rec := loadRecording(t, name)
	var mu sync.Mutex
	next, served := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Elastic-Product", "Elasticsearch") // as every Elasticsearch 8 answer
		w.Header().Set("Content-Type", "application/json")
		if next >= len(rec.Exchanges) {
			t.Errorf("%s: unexpected request %s %s?%s %s", name, r.Method, r.URL.Path, r.URL.RawQuery, body)
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"type":"unexpected_request","reason":"not in the recording"},"status":400}`))
			return
		}
		ex := rec.Exchanges[next]
		if served++; served >= max(ex.Times, 1) {
			next, served = next+1, 0
		}
		if problems := compareRequest(ex, r, body); len(problems) > 0 {
			t.Errorf("%s: request for exchange %q differs:\n  %s", name, ex.Name, strings.Join(problems, "\n  "))
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"type":"recording_mismatch","reason":"request differs from the recording"},"status":400}`))
			return
		}
		w.WriteHeader(ex.Response.Status)
		if r.Method != http.MethodHead && len(ex.Response.Body) > 0 {
			_, _ = w.Write(ex.Response.Body)
		}
	}))
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		if next < len(rec.Exchanges) {
			t.Errorf("%s: exchange %q (and %d after it) never requested", name, rec.Exchanges[next].Name, len(rec.Exchanges)-next-1)
		}
	})
	return srv.URL
}

func compareRequest(ex exchange, r *http.Request, body []byte) []string {
	var problems []string
	want := ex.Request
	if r.Method != want.Method || r.URL.Path != want.Path {
		problems = append(problems, fmt.Sprintf("got %s %s, want %s %s", r.Method, r.URL.Path, want.Method, want.Path))
	}
	got := map[string]string{}
	for k, vs := range r.URL.Query() {
		got[k] = strings.Join(vs, ",")
	}
	wantQuery := want.Query
	if wantQuery == nil {
		wantQuery = map[string]string{}
	}
	if !reflect.DeepEqual(got, wantQuery) {
		problems = append(problems, fmt.Sprintf("query %v, want %v", got, wantQuery))
	}
	if want.Auth != nil {
		user, pass, ok := r.BasicAuth()
		if !ok || user != want.Auth.Username || pass != want.Auth.Password {
			problems = append(problems, fmt.Sprintf("basic auth %q/%q (sent: %v), want %q/%q", user, pass, ok, want.Auth.Username, want.Auth.Password))
		}
	}
	switch {
	case want.NDJSON != nil:
		if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
			problems = append(problems, "content type "+ct+", want application/x-ndjson")
		}
		lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
		if !strings.HasSuffix(string(body), "\n") {
			problems = append(problems, "NDJSON body does not end with a newline")
		}
		if len(lines) != len(want.NDJSON) {
			problems = append(problems, fmt.Sprintf("%d NDJSON lines, want %d:\n%s", len(lines), len(want.NDJSON), body))
			break
		}
		for i, line := range lines {
			if p := compareJSON([]byte(line), want.NDJSON[i]); p != "" {
				problems = append(problems, fmt.Sprintf("NDJSON line %d: %s", i+1, p))
			}
		}
	case want.Body != nil:
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			problems = append(problems, "content type "+ct+", want application/json")
		}
		if p := compareJSON(body, want.Body); p != "" {
			problems = append(problems, "body: "+p)
		}
	case len(body) > 0:
		problems = append(problems, fmt.Sprintf("unexpected body %s", body))
	}
	return problems
}

// compareJSON compares two JSON documents structurally (key order and
// spacing do not matter; numbers compare as written).
func compareJSON(got, want []byte) string {
	decode := func(b []byte) (any, error) {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		err := dec.Decode(&v)
		return v, err
	}
	g, err := decode(got)
	if err != nil {
		return fmt.Sprintf("not JSON (%v): %s", err, got)
	}
	w, err := decode(want)
	if err != nil {
		return fmt.Sprintf("recording is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		gc, _ := json.Marshal(g)
		wc, _ := json.Marshal(w)
		return fmt.Sprintf("\n    got  %s\n    want %s", gc, wc)
	}
	return ""
}

var recordedNow = time.Date(2026, 1, 2, 3, 10, 0, 0, time.UTC)

// recordedEngine is an engine on the replay server that does not run
// EnsureIndex, with the clock fixed at the recordings' time.
func recordedEngine(t *testing.T, url string, waitFor bool) *Engine {
	t.Helper()
	e, err := newEngine(Config{Addresses: []string{url}, RefreshWaitFor: waitFor})
	if err != nil {
		t.Fatal(err)
	}
	e.now = func() time.Time { return recordedNow }
	return e
}

func at(minute int) time.Time { return time.Date(2026, 1, 2, 3, 4+minute, 5, 0, time.UTC) }

func TestRecordedNewCreatesFirstIndexAndAlias(t *testing.T) {
	url := replay(t, "ensure_index_creates.json")
	e, err := New(context.Background(), Config{Addresses: []string{url}, Username: "elastic", Password: "changeme"})
	if err != nil {
		t.Fatal(err)
	}
	if e.alias != DefaultIndexPrefix {
		t.Fatalf("alias %q", e.alias)
	}
}

func TestRecordedEnsureIndexWhenAliasExists(t *testing.T) {
	e := recordedEngine(t, replay(t, "ensure_index_exists.json"), false)
	if err := e.EnsureIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRecordedEnsureIndexLosesCreateRace(t *testing.T) {
	e := recordedEngine(t, replay(t, "ensure_index_race.json"), false)
	if err := e.EnsureIndex(context.Background()); err != nil {
		t.Fatalf("a concurrent creation by another process is not an error: %v", err)
	}
}

var p1 = domain.Doc{PostID: "p1", AuthorID: "alice", Caption: "Sunset at the beach", Tags: []string{"sunset", "beach"},
	Version: 3, CreatedAt: at(1), UpdatedAt: at(2)}

func TestRecordedUpsertApplied(t *testing.T) {
	e := recordedEngine(t, replay(t, "upsert_applied.json"), false)
	applied, err := e.Upsert(context.Background(), p1)
	if err != nil || !applied {
		t.Fatalf("Upsert = %v, %v; want applied", applied, err)
	}
}

func TestRecordedUpsertRefusedByVersionConflict(t *testing.T) {
	e := recordedEngine(t, replay(t, "upsert_refused.json"), false)
	applied, err := e.Upsert(context.Background(), p1)
	if err != nil {
		t.Fatalf("a 409 version conflict must not be an error: %v", err)
	}
	if applied {
		t.Fatal("a refused write was reported as applied")
	}
}

func TestRecordedRemoveWritesTombstone(t *testing.T) {
	e := recordedEngine(t, replay(t, "remove.json"), true)
	ctx := context.Background()
	applied, err := e.Remove(ctx, "p1", 4)
	if err != nil || !applied {
		t.Fatalf("Remove(p1, 4) = %v, %v; want applied", applied, err)
	}
	applied, err = e.Remove(ctx, "p1", 2)
	if err != nil || applied {
		t.Fatalf("Remove(p1, 2) = %v, %v; want refused without error", applied, err)
	}
}

func TestRecordedGet(t *testing.T) {
	e := recordedEngine(t, replay(t, "get.json"), false)
	ctx := context.Background()
	got, ok, err := e.Get(ctx, "p1")
	if err != nil || !ok || !reflect.DeepEqual(got, p1) {
		t.Fatalf("Get(p1) = %+v, %v, %v; want %+v", got, ok, err, p1)
	}
	if _, ok, err := e.Get(ctx, "p2"); err != nil || ok {
		t.Fatalf("Get(tombstone) = %v, %v; want not found", ok, err)
	}
	if _, ok, err := e.Get(ctx, "p3"); err != nil || ok {
		t.Fatalf("Get(never indexed) = %v, %v; want not found", ok, err)
	}
	_, _, err = e.Get(ctx, "p4")
	var re *ResponseError
	if !errors.As(err, &re) || re.Type != "index_not_found_exception" || apperror.Is(err, apperror.Unavailable) {
		t.Fatalf("Get with the index missing = %v; want an index_not_found_exception error", err)
	}
}

func TestRecordedSearch(t *testing.T) {
	e := recordedEngine(t, replay(t, "search.json"), false)
	ctx := context.Background()
	res, err := e.Search(ctx, domain.Query{Tags: []string{"sunset", "beach"}, Words: []string{"the", "beach"},
		ExcludeAuthors: []string{"mallory", "trudy"}, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := domain.Result{Total: 3, Docs: []domain.Doc{
		{PostID: "p3", AuthorID: "carol", Caption: "Beach day at the beach", Tags: []string{"beach", "sunset", "summer"},
			Version: 1, CreatedAt: at(3), UpdatedAt: at(3)},
		{PostID: "p1", AuthorID: "alice", Caption: "Sunset at the beach", Tags: []string{"sunset", "beach"},
			Version: 2, CreatedAt: at(1), UpdatedAt: at(1)},
	}}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("Search =\n %+v\nwant\n %+v", res, want)
	}
	res, err = e.Search(ctx, domain.Query{Words: []string{"beach"}, Limit: 20, Offset: 10})
	if err != nil || res.Total != 3 || res.Docs == nil || len(res.Docs) != 0 {
		t.Fatalf("Search past the end = %+v, %v; want no docs (not nil), total 3", res, err)
	}
	if _, err := e.Search(ctx, domain.Query{Limit: 20}); err == nil {
		t.Fatal("a search without tags or words must be refused before reaching the cluster")
	}
}

func TestRecordedAutocomplete(t *testing.T) {
	e := recordedEngine(t, replay(t, "autocomplete.json"), false)
	ctx := context.Background()
	got, err := e.Autocomplete(ctx, "su", nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.TagCount{{Tag: "sunset", Count: 3}, {Tag: "sun", Count: 2}, {Tag: "summer", Count: 1}, {Tag: "surf", Count: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Autocomplete(su) = %v, want %v", got, want)
	}
	got, err = e.Autocomplete(ctx, "su", []string{"bob"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	want = []domain.TagCount{{Tag: "sun", Count: 1}, {Tag: "sunset", Count: 1}, {Tag: "surf", Count: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Autocomplete(su, without bob) = %v, want %v", got, want)
	}
	// Neither of these reaches the cluster (the recording has no third exchange).
	if got, err := e.Autocomplete(ctx, "su", nil, 0); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Autocomplete(limit 0) = %v, %v; want an empty list", got, err)
	}
	if _, err := e.Autocomplete(ctx, "", nil, 10); err == nil {
		t.Fatal("an empty prefix must be refused")
	}
}

func TestPrefixRegexpEscapes(t *testing.T) {
	for prefix, want := range map[string]string{
		"su":        "su.*",
		"sun_set2":  "sun_set2.*",
		"a.b":       `a\.b.*`,
		`x*y+(z)|"`: `x\*y\+\(z\)\|\".*`,
		"été":       `\ét\é.*`,
	} {
		if got := prefixRegexp(prefix); got != want {
			t.Errorf("prefixRegexp(%q) = %q, want %q", prefix, got, want)
		}
	}
}

func TestRecordedGeneration(t *testing.T) {
	e := recordedEngine(t, replay(t, "generation.json"), false)
	ctx := context.Background()
	g, err := e.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(2)<<40 | 42; g != want {
		t.Fatalf("Generation = %d, want %d (index 2, seq_no 41)", g, want)
	}
	g, err = e.Generation(ctx)
	if err != nil || g != 0 {
		t.Fatalf("Generation of an empty model = %d, %v; want 0", g, err)
	}
}

// listing serves docs as a Rebuild source, in the given pages.
func listing(pages ...[]domain.Doc) func(context.Context) ([]domain.Doc, error) {
	return func(context.Context) ([]domain.Doc, error) {
		if len(pages) == 0 {
			return nil, io.EOF
		}
		page := pages[0]
		pages = pages[1:]
		return page, nil
	}
}

func rebuildDocs() (stale, missing, p4 domain.Doc) {
	stale = domain.Doc{PostID: "stale", AuthorID: "a", Caption: "new caption", Tags: []string{"x", "y"}, Version: 2, CreatedAt: at(2), UpdatedAt: at(2)}
	missing = domain.Doc{PostID: "missing", AuthorID: "b", Caption: "never indexed", Tags: []string{"x"}, Version: 1, CreatedAt: at(3), UpdatedAt: at(3)}
	p4 = domain.Doc{PostID: "p4", AuthorID: "b", Tags: []string{"x"}, Version: 1, CreatedAt: at(4), UpdatedAt: at(4)}
	return
}

func TestRecordedRebuild(t *testing.T) {
	e := recordedEngine(t, replay(t, "rebuild.json"), false)
	stale, missing, p4 := rebuildDocs()
	n, err := e.Rebuild(context.Background(), listing([]domain.Doc{stale, missing}, []domain.Doc{p4, stale}))
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("Rebuild = %d, want 4 (every listed doc)", n)
	}
}

func TestRecordedRebuildFailureCleansUp(t *testing.T) {
	e := recordedEngine(t, replay(t, "rebuild_failure.json"), false)
	stale, missing, _ := rebuildDocs()
	_, err := e.Rebuild(context.Background(), listing([]domain.Doc{stale, missing}))
	var re *ResponseError
	if !errors.As(err, &re) || re.Type != "document_parsing_exception" || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Rebuild = %v; want the rejected document's error", err)
	}
}

func TestRecordedPing(t *testing.T) {
	e := recordedEngine(t, replay(t, "ping.json"), false)
	ctx := context.Background()
	if err := e.Ping(ctx); err != nil {
		t.Fatalf("Ping on a yellow cluster = %v", err)
	}
	if err := e.Ping(ctx); !apperror.Is(err, apperror.Unavailable) {
		t.Fatalf("Ping with the index red = %v; want Unavailable", err)
	}
	if err := e.Ping(ctx); !apperror.Is(err, apperror.Unavailable) {
		t.Fatalf("Ping with the index missing = %v; want Unavailable", err)
	}
}

func TestRecordedServiceUnavailable(t *testing.T) {
	e := recordedEngine(t, replay(t, "search_unavailable.json"), false)
	_, err := e.Search(context.Background(), domain.Query{Words: []string{"beach"}, Limit: 20})
	if !apperror.Is(err, apperror.Unavailable) {
		t.Fatalf("Search on a 503 = %v; want Unavailable", err)
	}
	var re *ResponseError
	if !errors.As(err, &re) || re.Type != "search_phase_execution_exception" {
		t.Fatalf("the cause is lost: %v", err)
	}
}

// TestUnreachableClusterIsUnavailable needs no recording: nothing listens.
func TestUnreachableClusterIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	_ = l.Close()
	e := recordedEngine(t, addr, false)
	ctx := context.Background()
	calls := map[string]func() error{
		"Upsert":       func() error { _, err := e.Upsert(ctx, p1); return err },
		"Remove":       func() error { _, err := e.Remove(ctx, "p1", 2); return err },
		"Get":          func() error { _, _, err := e.Get(ctx, "p1"); return err },
		"Search":       func() error { _, err := e.Search(ctx, domain.Query{Tags: []string{"x"}, Limit: 1}); return err },
		"Autocomplete": func() error { _, err := e.Autocomplete(ctx, "x", nil, 5); return err },
		"Generation":   func() error { _, err := e.Generation(ctx); return err },
		"Rebuild":      func() error { _, err := e.Rebuild(ctx, listing()); return err },
		"Ping":         func() error { return e.Ping(ctx) },
		"EnsureIndex":  func() error { return e.EnsureIndex(ctx) },
	}
	names := make([]string, 0, len(calls))
	for name := range calls {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		err := calls[name]()
		if !apperror.Is(err, apperror.Unavailable) {
			t.Errorf("%s on an unreachable cluster = %v; want apperror Unavailable", name, err)
		}
	}
	if _, err := New(ctx, Config{Addresses: []string{addr}}); !apperror.Is(err, apperror.Unavailable) {
		t.Errorf("New on an unreachable cluster = %v; want apperror Unavailable", err)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no address":       {},
		"upper-case index": {Addresses: []string{"http://127.0.0.1:9200"}, IndexPrefix: "Posts"},
		"leading dash":     {Addresses: []string{"http://127.0.0.1:9200"}, IndexPrefix: "-posts"},
	} {
		if _, err := New(context.Background(), cfg); err == nil || apperror.Is(err, apperror.Unavailable) {
			t.Errorf("%s: New = %v; want a configuration error", name, err)
		}
	}
}
