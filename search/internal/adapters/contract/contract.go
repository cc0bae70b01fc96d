// Package contract is the behaviour every read-model engine must have, as
// a test suite: the SQL engine runs it on SQLite and PostgreSQL, the
// Elasticsearch engine against a cluster or recorded responses.
package contract

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"pixshare/search/internal/app"
	"pixshare/search/internal/domain"
)

// NewEngine returns an empty engine for one test.
type NewEngine func(t *testing.T) app.Engine

var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// doc builds a doc created n minutes after base.
func doc(id, author string, n int, version int64, caption string, tags ...string) domain.Doc {
	if tags == nil {
		tags = []string{}
	}
	at := base.Add(time.Duration(n) * time.Minute)
	return domain.Doc{PostID: id, AuthorID: author, Caption: caption, Tags: tags, Version: version, CreatedAt: at, UpdatedAt: at}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func upsert(t *testing.T, e app.Engine, d domain.Doc) bool {
	t.Helper()
	applied, err := e.Upsert(context.Background(), d)
	must(t, err)
	return applied
}

func ids(docs []domain.Doc) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.PostID
	}
	return out
}

func search(t *testing.T, e app.Engine, q domain.Query) domain.Result {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 20
	}
	res, err := e.Search(context.Background(), q)
	must(t, err)
	return res
}

// Run runs the whole suite.
func Run(t *testing.T, newEngine NewEngine) {
	t.Run("versions", func(t *testing.T) { testVersions(t, newEngine(t)) })
	t.Run("search", func(t *testing.T) { testSearch(t, newEngine(t)) })
	t.Run("autocomplete", func(t *testing.T) { testAutocomplete(t, newEngine(t)) })
	t.Run("generation", func(t *testing.T) { testGeneration(t, newEngine(t)) })
	t.Run("rebuild", func(t *testing.T) { testRebuild(t, newEngine(t)) })
	t.Run("out of order and duplicates", func(t *testing.T) { testShuffled(t, newEngine(t)) })
}

func testVersions(t *testing.T, e app.Engine) {
	ctx := context.Background()
	if !upsert(t, e, doc("p1", "a", 1, 1, "first", "x")) {
		t.Fatal("first upsert not applied")
	}
	if upsert(t, e, doc("p1", "a", 1, 1, "duplicate", "y")) {
		t.Fatal("an upsert of the same version was applied")
	}
	if !upsert(t, e, doc("p1", "a", 1, 3, "third", "z")) {
		t.Fatal("a newer version was not applied")
	}
	if upsert(t, e, doc("p1", "a", 1, 2, "second", "y")) {
		t.Fatal("an older version was applied over a newer one")
	}
	got, ok, err := e.Get(ctx, "p1")
	must(t, err)
	if !ok || got.Caption != "third" || got.Version != 3 || !reflect.DeepEqual(got.Tags, []string{"z"}) {
		t.Fatalf("Get = %+v %v", got, ok)
	}
	if n := search(t, e, domain.Query{Tags: []string{"y"}}).Total; n != 0 {
		t.Fatal("an old version's tag is still searchable")
	}

	applied, err := e.Remove(ctx, "p1", 2)
	must(t, err)
	if applied {
		t.Fatal("a removal older than the live version was applied")
	}
	applied, err = e.Remove(ctx, "p1", 4)
	must(t, err)
	if !applied {
		t.Fatal("removal not applied")
	}
	if _, ok, _ := e.Get(ctx, "p1"); ok {
		t.Fatal("removed post still readable")
	}
	if upsert(t, e, doc("p1", "a", 1, 3, "late", "z")) {
		t.Fatal("a late upsert brought a removed post back")
	}
	if n := search(t, e, domain.Query{Tags: []string{"z"}}).Total; n != 0 {
		t.Fatal("a removed post is searchable")
	}
	// A removal that arrives before the post's upsert still wins.
	applied, err = e.Remove(ctx, "p2", 2)
	must(t, err)
	if !applied || upsert(t, e, doc("p2", "a", 2, 1, "early", "w")) {
		t.Fatal("an upsert older than an earlier-arrived removal was applied")
	}
}

func testSearch(t *testing.T, e app.Engine) {
	upsert(t, e, doc("p1", "alice", 1, 1, "Sunset at the beach", "sunset", "beach"))
	upsert(t, e, doc("p2", "bob", 2, 1, "Sunset in the city", "sunset", "city"))
	upsert(t, e, doc("p3", "carol", 3, 1, "Beach day", "beach", "sunset", "summer"))
	upsert(t, e, doc("p4", "alice", 4, 1, "Mountains", "mountain"))

	tests := []struct {
		name string
		q    domain.Query
		want []string
	}{
		{"one tag, newest first", domain.Query{Tags: []string{"sunset"}}, []string{"p3", "p2", "p1"}},
		{"all tags", domain.Query{Tags: []string{"sunset", "beach"}}, []string{"p3", "p1"}},
		{"three tags", domain.Query{Tags: []string{"beach", "summer", "sunset"}}, []string{"p3"}},
		{"no match", domain.Query{Tags: []string{"sunset", "mountain"}}, []string{}},
		{"caption word", domain.Query{Words: []string{"beach"}}, []string{"p3", "p1"}},
		{"tag and words", domain.Query{Tags: []string{"sunset"}, Words: []string{"the", "city"}}, []string{"p2"}},
		{"excluded authors", domain.Query{Tags: []string{"sunset"}, ExcludeAuthors: []string{"carol", "bob"}}, []string{"p1"}},
		{"limit", domain.Query{Tags: []string{"sunset"}, Limit: 2}, []string{"p3", "p2"}},
		{"offset", domain.Query{Tags: []string{"sunset"}, Limit: 2, Offset: 2}, []string{"p1"}},
		{"offset past the end", domain.Query{Tags: []string{"sunset"}, Offset: 10}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := search(t, e, tt.q)
			if got := ids(res.Docs); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	res := search(t, e, domain.Query{Tags: []string{"sunset"}, Limit: 1})
	if res.Total != 3 {
		t.Fatalf("total = %d, want 3 regardless of the page", res.Total)
	}
	d := res.Docs[0]
	if d.AuthorID != "carol" || d.Caption != "Beach day" || !d.CreatedAt.Equal(base.Add(3*time.Minute)) ||
		!reflect.DeepEqual(d.Tags, []string{"beach", "sunset", "summer"}) {
		t.Fatalf("summary fields = %+v", d)
	}
}

func testAutocomplete(t *testing.T, e app.Engine) {
	ctx := context.Background()
	upsert(t, e, doc("p1", "alice", 1, 1, "", "sunset", "sun"))
	upsert(t, e, doc("p2", "bob", 2, 1, "", "sunset", "summer"))
	upsert(t, e, doc("p3", "bob", 3, 1, "", "sunset", "sun"))
	upsert(t, e, doc("p4", "carol", 4, 1, "", "surf", "sea"))
	upsert(t, e, doc("p5", "carol", 5, 1, "", "sunset"))
	_, err := e.Remove(ctx, "p5", 2)
	must(t, err)

	got, err := e.Autocomplete(ctx, "su", nil, 10)
	must(t, err)
	want := []domain.TagCount{{Tag: "sunset", Count: 3}, {Tag: "sun", Count: 2}, {Tag: "summer", Count: 1}, {Tag: "surf", Count: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("autocomplete(su) = %v, want %v (deleted posts must not count)", got, want)
	}
	got, err = e.Autocomplete(ctx, "su", []string{"bob"}, 10)
	must(t, err)
	want = []domain.TagCount{{Tag: "sun", Count: 1}, {Tag: "sunset", Count: 1}, {Tag: "surf", Count: 1}}
	sortTags(got)
	sortTags(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("autocomplete(su) without bob = %v, want %v", got, want)
	}
	got, err = e.Autocomplete(ctx, "sun", nil, 1)
	must(t, err)
	if !reflect.DeepEqual(got, []domain.TagCount{{Tag: "sunset", Count: 3}}) {
		t.Fatalf("autocomplete(sun, 1) = %v", got)
	}
	got, err = e.Autocomplete(ctx, "zzz", nil, 10)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("autocomplete(zzz) = %v", got)
	}
}

func sortTags(tc []domain.TagCount) {
	sort.Slice(tc, func(i, j int) bool {
		if tc[i].Count != tc[j].Count {
			return tc[i].Count > tc[j].Count
		}
		return tc[i].Tag < tc[j].Tag
	})
}

func testGeneration(t *testing.T, e app.Engine) {
	ctx := context.Background()
	g0, err := e.Generation(ctx)
	must(t, err)
	upsert(t, e, doc("p1", "a", 1, 1, "", "x"))
	g1, err := e.Generation(ctx)
	must(t, err)
	if g1 == g0 {
		t.Fatal("generation unchanged by a write")
	}
	upsert(t, e, doc("p1", "a", 1, 1, "", "x"))
	g2, _ := e.Generation(ctx)
	if g2 != g1 {
		t.Fatal("generation changed by a write that was not applied")
	}
	_, err = e.Remove(ctx, "p1", 2)
	must(t, err)
	if g3, _ := e.Generation(ctx); g3 == g2 {
		t.Fatal("generation unchanged by a removal")
	}
}

// pages serves docs as a Rebuild source, two at a time.
func pages(docs []domain.Doc) func(context.Context) ([]domain.Doc, error) {
	i := 0
	return func(context.Context) ([]domain.Doc, error) {
		if i >= len(docs) {
			return nil, io.EOF
		}
		j := min(i+2, len(docs))
		page := docs[i:j]
		i = j
		return page, nil
	}
}

func testRebuild(t *testing.T, e app.Engine) {
	ctx := context.Background()
	upsert(t, e, doc("gone", "a", 1, 1, "deleted while its removal was lost", "x"))
	upsert(t, e, doc("stale", "a", 2, 1, "old caption", "x"))
	truth := []domain.Doc{
		doc("stale", "a", 2, 2, "new caption", "x", "y"),
		doc("missing", "b", 3, 1, "never indexed", "x"),
		doc("p4", "b", 4, 1, "", "x"),
	}
	before, err := e.Generation(ctx)
	must(t, err)
	n, err := e.Rebuild(ctx, pages(truth))
	must(t, err)
	if after, _ := e.Generation(ctx); after == before {
		t.Fatal("generation unchanged by a rebuild that changed the model")
	}
	if n != len(truth) {
		t.Fatalf("rebuild reported %d docs, want %d", n, len(truth))
	}
	res := search(t, e, domain.Query{Tags: []string{"x"}})
	if got := ids(res.Docs); !reflect.DeepEqual(got, []string{"p4", "missing", "stale"}) {
		t.Fatalf("after rebuild: %v", got)
	}
	if d, _, _ := e.Get(ctx, "stale"); d.Caption != "new caption" {
		t.Fatalf("rebuild kept a stale caption: %q", d.Caption)
	}
	if _, ok, _ := e.Get(ctx, "gone"); ok {
		t.Fatal("rebuild kept a post the listing does not have")
	}
	// A stale event for the dropped post arriving after the rebuild must
	// not bring it back.
	if upsert(t, e, doc("gone", "a", 1, 1, "deleted while its removal was lost", "x")) {
		t.Fatal("a stale upsert resurrected a post the rebuild dropped")
	}
}

// testShuffled applies a random interleaving of every post's event
// history, with duplicates, and compares with the final truth.
func testShuffled(t *testing.T, e app.Engine) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	type event struct {
		doc    domain.Doc
		remove bool
	}
	var evs []event
	final := map[string]*domain.Doc{}
	for p := range 30 {
		id := fmt.Sprintf("post%02d", p)
		versions := 1 + rng.IntN(4)
		var last domain.Doc
		for v := 1; v <= versions; v++ {
			last = doc(id, fmt.Sprintf("author%d", p%5), p, int64(v), fmt.Sprintf("caption %d word%d", v, p), fmt.Sprintf("tag%d", v), "common")
			evs = append(evs, event{doc: last})
		}
		if rng.IntN(3) == 0 {
			evs = append(evs, event{doc: domain.Doc{PostID: id, Version: int64(versions + 1)}, remove: true})
			final[id] = nil
		} else {
			final[id] = &last
		}
	}
	for range len(evs) / 2 {
		evs = append(evs, evs[rng.IntN(len(evs))])
	}
	rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	for _, ev := range evs {
		var err error
		if ev.remove {
			_, err = e.Remove(ctx, ev.doc.PostID, ev.doc.Version)
		} else {
			_, err = e.Upsert(ctx, ev.doc)
		}
		must(t, err)
	}
	live := 0
	for id, want := range final {
		got, ok, err := e.Get(ctx, id)
		must(t, err)
		switch {
		case want == nil && ok:
			t.Fatalf("%s: removed in truth, present in the model", id)
		case want != nil && (!ok || got.Version != want.Version || got.Caption != want.Caption || !reflect.DeepEqual(got.Tags, want.Tags)):
			t.Fatalf("%s: model %+v, truth %+v", id, got, *want)
		}
		if want != nil {
			live++
		}
	}
	if n := search(t, e, domain.Query{Tags: []string{"common"}, Limit: 100}).Total; n != int64(live) {
		t.Fatalf("search finds %d posts, truth has %d", n, live)
	}
}
