// Package esengine is the read model on Elasticsearch 8 (app.Engine),
// the production alternative to package sqlengine, with the same behaviour
// (package contract holds both to it).
//
// Layout in the cluster, for IndexPrefix P (default "pixshare-posts"):
//
//   - concrete indices P-000001, P-000002, … (one primary shard each, so
//     tag counts are exact and pagination is stable), created with the
//     settings and mapping in index.json;
//   - the alias P, pointing at exactly one of them. Every read and write
//     goes through the alias; Rebuild fills the next index and swaps the
//     alias atomically.
//
// One Elasticsearch document per post, _id = post id, written with external
// versioning (version = post version): Elasticsearch itself refuses an
// older or equal version (409 version_conflict_engine_exception, reported
// as "not applied"). A removal writes a tombstone document at the removal's
// version, so an older upsert that arrives late is refused too.
//
// Generation is derived from the index itself: the highest _seq_no visible
// to search in the aliased index (plus the index number). An applied write
// always takes a new, higher sequence number; a refused one takes none
// (Elasticsearch rejects version conflicts before assigning one). Because it
// is read through search, the generation changes when a write becomes
// searchable, never before — cached query results keyed by it cannot
// outlive the data they were computed from.
//
// Tests: without a cluster, the adapter is tested against RECORDED
// responses (testdata/recorded/, each copied from the shapes in
// Elasticsearch 8's reference documentation) served by an httptest server
// that also checks every request the adapter sends. Those tests do not run
// Elasticsearch. The behaviour suite (package contract) runs against a real
// cluster when ELASTICSEARCH_URL is set. See README.md.
package esengine

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"pixshare/search/internal/app"
	"pixshare/search/internal/domain"
)

// DefaultIndexPrefix names the alias and prefixes the concrete indices.
const DefaultIndexPrefix = "pixshare-posts"

// Config configures the engine.
type Config struct {
	// Addresses of the cluster's HTTP endpoints, e.g. http://localhost:9200.
	Addresses []string
	// Username and Password for HTTP basic authentication (optional).
	Username string
	Password string
	// IndexPrefix is the alias name and the prefix of the concrete indices
	// (default "pixshare-posts").
	IndexPrefix string
	// RefreshWaitFor makes every write wait until it is visible to search
	// (refresh=wait_for). For tests that read right after writing; in
	// production writes become searchable within the refresh interval (1s).
	RefreshWaitFor bool
}

// Engine is the Elasticsearch read model.
type Engine struct {
	es      esapi.Transport
	alias   string
	refresh string // "wait_for" or ""
	now     func() time.Time
}

var _ app.Engine = (*Engine)(nil)

//go:embed index.json
var indexJSON []byte

// validPrefix keeps index names legal: lower case, no leading -, _ or +.
var validPrefix = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,200}$`)

// New connects to the cluster and makes sure the alias and its first index
// exist (EnsureIndex), so the returned engine is ready for reads and writes.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	e, err := newEngine(cfg)
	if err != nil {
		return nil, err
	}
	if err := e.EnsureIndex(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// newEngine builds the client without contacting the cluster.
func newEngine(cfg Config) (*Engine, error) {
	if len(cfg.Addresses) == 0 {
		return nil, errors.New("esengine: no Elasticsearch address configured")
	}
	if cfg.IndexPrefix == "" {
		cfg.IndexPrefix = DefaultIndexPrefix
	}
	if !validPrefix.MatchString(cfg.IndexPrefix) {
		return nil, fmt.Errorf("esengine: index prefix %q is not a valid index name (lower-case letters, digits, '.', '_', '-')", cfg.IndexPrefix)
	}
	urls := make([]*url.URL, len(cfg.Addresses))
	for i, addr := range cfg.Addresses {
		u, err := url.Parse(strings.TrimRight(addr, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("esengine: address %q is not an http(s) URL", addr)
		}
		urls[i] = u
	}
	// The esapi requests run on go-elasticsearch's transport directly: the
	// elasticsearch.Client wrapper would also compile the whole typed API
	// (~850 packages) for nothing.
	client, err := elastictransport.New(elastictransport.Config{
		UserAgent: "pixshare-search-esengine",
		URLs:      urls,
		Username:  cfg.Username,
		Password:  cfg.Password,
		// Retries (default: 3, on 502/503/504 and connection errors) back
		// off a little instead of hammering a struggling cluster.
		RetryBackoff: func(attempt int) time.Duration { return time.Duration(attempt) * 50 * time.Millisecond },
	})
	if err != nil {
		return nil, fmt.Errorf("esengine: transport: %w", err)
	}
	e := &Engine{es: client, alias: cfg.IndexPrefix, now: time.Now}
	if cfg.RefreshWaitFor {
		e.refresh = "wait_for"
	}
	return e, nil
}

// indexName is the n-th concrete index behind the alias.
func (e *Engine) indexName(n int) string { return fmt.Sprintf("%s-%06d", e.alias, n) }

// indexNumber parses the number of a concrete index name.
func (e *Engine) indexNumber(name string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(name, e.alias+"-"))
	if err != nil || !strings.HasPrefix(name, e.alias+"-") || n <= 0 {
		return 0, fmt.Errorf("index %q behind alias %q is not one of ours (%s-NNNNNN)", name, e.alias, e.alias)
	}
	return n, nil
}

// indexBody is index.json, plus the write alias when withAlias is set.
func (e *Engine) indexBody(withAlias bool) ([]byte, error) {
	var body map[string]any
	if err := json.Unmarshal(indexJSON, &body); err != nil {
		return nil, fmt.Errorf("esengine: index.json: %w", err)
	}
	if withAlias {
		body["aliases"] = map[string]any{e.alias: map[string]any{"is_write_index": true}}
	}
	return json.Marshal(body)
}

// EnsureIndex creates the first concrete index (P-000001) with its settings,
// mapping and the write alias P, unless the alias already exists. Safe to
// run concurrently from several processes.
func (e *Engine) EnsureIndex(ctx context.Context) error {
	exists, err := e.aliasExists(ctx)
	if err != nil || exists {
		return err
	}
	first := e.indexName(1)
	err = e.createIndex(ctx, first, true)
	if errors.Is(err, errIndexExists) {
		// Another process created it first; it must have made the alias.
		exists, err = e.aliasExists(ctx)
		if err == nil && !exists {
			err = fmt.Errorf("ensure index: %s exists but alias %s does not (delete the index or add the alias)", first, e.alias)
		}
	}
	return err
}

func (e *Engine) aliasExists(ctx context.Context) (bool, error) {
	op := "check alias " + e.alias
	status, body, err := e.perform(ctx, op, esapi.IndicesExistsAliasRequest{Name: []string{e.alias}})
	switch {
	case err != nil:
		return false, err
	case status == 200:
		return true, nil
	case status == 404:
		return false, nil
	default:
		return false, failure(op, status, body)
	}
}

var errIndexExists = errors.New("index already exists")

func (e *Engine) createIndex(ctx context.Context, name string, withAlias bool) error {
	op := "create index " + name
	body, err := e.indexBody(withAlias)
	if err != nil {
		return err
	}
	status, resp, err := e.perform(ctx, op, esapi.IndicesCreateRequest{Index: name, Body: bytes.NewReader(body)})
	switch {
	case err != nil:
		return err
	case status == 200:
		return nil
	case status == 400 && errorType(resp) == "resource_already_exists_exception":
		return fmt.Errorf("%s: %w", op, errIndexExists)
	default:
		return failure(op, status, resp)
	}
}

// liveSource is what Upsert writes.
type liveSource struct {
	PostID    string    `json:"post_id"`
	AuthorID  string    `json:"author_id"`
	Caption   string    `json:"caption"`
	Tags      []string  `json:"tags"`
	Version   int64     `json:"version"`
	Tombstone bool      `json:"tombstone"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	IndexedAt time.Time `json:"indexed_at"`
}

// tombstoneSource is what Remove writes: no author, caption or tags.
type tombstoneSource struct {
	PostID    string    `json:"post_id"`
	Version   int64     `json:"version"`
	Tombstone bool      `json:"tombstone"`
	UpdatedAt time.Time `json:"updated_at"`
	IndexedAt time.Time `json:"indexed_at"`
}

// storedSource reads either kind back.
type storedSource struct {
	PostID    string    `json:"post_id"`
	AuthorID  string    `json:"author_id"`
	Caption   string    `json:"caption"`
	Tags      []string  `json:"tags"`
	Version   int64     `json:"version"`
	Tombstone bool      `json:"tombstone"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (s storedSource) toDoc() domain.Doc {
	tags := s.Tags
	if tags == nil {
		tags = []string{}
	}
	return domain.Doc{PostID: s.PostID, AuthorID: s.AuthorID, Caption: s.Caption, Tags: tags,
		Version: s.Version, CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
}

// Upsert implements app.Engine: an index request through the alias
// with version=doc.Version, version_type=external.
func (e *Engine) Upsert(ctx context.Context, d domain.Doc) (bool, error) {
	if d.PostID == "" {
		return false, errors.New("upsert: empty post id")
	}
	return e.write(ctx, "upsert "+d.PostID, d.PostID, d.Version, e.liveSource(d))
}

// Remove implements app.Engine: a tombstone document at version.
func (e *Engine) Remove(ctx context.Context, postID string, version int64) (bool, error) {
	if postID == "" {
		return false, errors.New("remove: empty post id")
	}
	now := e.now().UTC()
	return e.write(ctx, "remove "+postID, postID, version,
		tombstoneSource{PostID: postID, Version: version, Tombstone: true, UpdatedAt: now, IndexedAt: now})
}

func (e *Engine) write(ctx context.Context, op, postID string, version int64, source any) (bool, error) {
	if version < 0 {
		return false, fmt.Errorf("%s: negative version %d", op, version)
	}
	body, err := json.Marshal(source)
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	v, requireAlias := int(version), true
	status, resp, err := e.perform(ctx, op, esapi.IndexRequest{
		Index:        e.alias,
		DocumentID:   url.PathEscape(postID),
		Body:         bytes.NewReader(body),
		Version:      &v,
		VersionType:  "external",
		Refresh:      e.refresh,
		RequireAlias: &requireAlias,
	})
	switch {
	case err != nil:
		return false, err
	case status == 200 || status == 201:
		return true, nil
	case status == 409 && errorType(resp) == "version_conflict_engine_exception":
		// The index holds this version or a newer one (or a newer tombstone).
		return false, nil
	default:
		return false, failure(op, status, resp)
	}
}

// Get implements app.Engine (a real-time get: no refresh needed).
func (e *Engine) Get(ctx context.Context, postID string) (domain.Doc, bool, error) {
	op := "get " + postID
	status, body, err := e.perform(ctx, op, esapi.GetRequest{Index: e.alias, DocumentID: url.PathEscape(postID)})
	if err != nil {
		return domain.Doc{}, false, err
	}
	var res struct {
		Found  *bool        `json:"found"`
		Source storedSource `json:"_source"`
	}
	if (status == 200 || status == 404) && json.Unmarshal(body, &res) == nil && res.Found != nil {
		if !*res.Found || res.Source.Tombstone {
			return domain.Doc{}, false, nil
		}
		return res.Source.toDoc(), true, nil
	}
	// A 404 without "found" means the index itself is missing.
	return domain.Doc{}, false, failure(op, status, body)
}

// live is the filter every read starts with: no tombstones.
func live() []any { return []any{map[string]any{"term": map[string]any{"tombstone": false}}} }

func excluding(authors []string) []any {
	if len(authors) == 0 {
		return nil
	}
	return []any{map[string]any{"terms": map[string]any{"author_id": authors}}}
}

func boolQuery(filter, mustNot []any) map[string]any {
	q := map[string]any{"filter": filter}
	if len(mustNot) > 0 {
		q["must_not"] = mustNot
	}
	return map[string]any{"bool": q}
}

// Search implements app.Engine: every tag a term filter, the words
// one match query with operator and, excluded authors a must_not; newest
// first (created_at, then post_id, descending); exact total.
func (e *Engine) Search(ctx context.Context, q domain.Query) (domain.Result, error) {
	if len(q.Tags) == 0 && len(q.Words) == 0 {
		return domain.Result{}, errors.New("search needs a tag or a word")
	}
	filter := live()
	for _, t := range q.Tags {
		filter = append(filter, map[string]any{"term": map[string]any{"tags": t}})
	}
	if len(q.Words) > 0 {
		filter = append(filter, map[string]any{"match": map[string]any{
			"caption": map[string]any{"query": strings.Join(q.Words, " "), "operator": "and"}}})
	}
	body := map[string]any{
		"query":            boolQuery(filter, excluding(q.ExcludeAuthors)),
		"sort":             []any{map[string]any{"created_at": "desc"}, map[string]any{"post_id": "desc"}},
		"from":             max(q.Offset, 0),
		"size":             max(q.Limit, 0),
		"track_total_hits": true,
	}
	var res searchResponse
	if err := e.search(ctx, "search", e.alias, body, &res); err != nil {
		return domain.Result{}, err
	}
	out := domain.Result{Docs: make([]domain.Doc, 0, len(res.Hits.Hits))}
	if res.Hits.Total != nil {
		out.Total = res.Hits.Total.Value
	}
	for _, h := range res.Hits.Hits {
		var d storedSource
		if err := json.Unmarshal(h.Source, &d); err != nil {
			return domain.Result{}, fmt.Errorf("search: hit %s: %w", h.ID, err)
		}
		out.Docs = append(out.Docs, d.toDoc())
	}
	return out, nil
}

// prefixRegexp is a Lucene regular expression matching the terms that start
// with prefix: every character but [A-Za-z0-9_] is escaped.
func prefixRegexp(prefix string) string {
	var b strings.Builder
	for _, r := range prefix {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteString(".*")
	return b.String()
}

// Autocomplete implements app.Engine: a terms aggregation on tags,
// restricted to tags matching the prefix, over live posts not written by
// excludeAuthors, ordered by count then tag.
func (e *Engine) Autocomplete(ctx context.Context, prefix string, excludeAuthors []string, limit int) ([]domain.TagCount, error) {
	if prefix == "" {
		return nil, errors.New("autocomplete needs a prefix")
	}
	out := []domain.TagCount{}
	if limit <= 0 {
		return out, nil
	}
	filter := append(live(), map[string]any{"prefix": map[string]any{"tags": prefix}})
	body := map[string]any{
		"size":             0,
		"track_total_hits": false,
		"query":            boolQuery(filter, excluding(excludeAuthors)),
		"aggs": map[string]any{"tags": map[string]any{"terms": map[string]any{
			"field":   "tags",
			"include": prefixRegexp(prefix),
			"size":    limit,
			"order":   []any{map[string]any{"_count": "desc"}, map[string]any{"_key": "asc"}},
		}}},
	}
	var res searchResponse
	if err := e.search(ctx, "autocomplete", e.alias, body, &res); err != nil {
		return nil, err
	}
	for _, b := range res.Aggregations.Tags.Buckets {
		out = append(out, domain.TagCount{Tag: b.Key, Count: b.DocCount})
	}
	return out, nil
}

// Generation implements app.Engine: (index number << 40) + the
// highest visible _seq_no + 1, or 0 for an empty model.
func (e *Engine) Generation(ctx context.Context) (int64, error) {
	index, seq, err := e.maxSeqNo(ctx, "generation", e.alias)
	if err != nil || seq < 0 {
		return 0, err
	}
	n, err := e.indexNumber(index)
	if err != nil {
		return 0, fmt.Errorf("generation: %w", err)
	}
	return int64(n)<<40 | (seq + 1), nil
}

// maxSeqNo finds the document with the highest _seq_no visible to search in
// target; seq is -1 when there is none.
func (e *Engine) maxSeqNo(ctx context.Context, op, target string) (index string, seq int64, err error) {
	body := map[string]any{
		"size":                1,
		"sort":                []any{map[string]any{"_seq_no": "desc"}},
		"_source":             false,
		"seq_no_primary_term": true,
		"track_total_hits":    false,
	}
	var res searchResponse
	if err := e.search(ctx, op, target, body, &res); err != nil {
		return "", 0, err
	}
	if len(res.Hits.Hits) == 0 {
		return "", -1, nil
	}
	h := res.Hits.Hits[0]
	if h.SeqNo == nil {
		return "", 0, fmt.Errorf("%s: hit without _seq_no", op)
	}
	return h.Index, *h.SeqNo, nil
}

// pingTimeout bounds how long cluster health waits for a missing index.
const pingTimeout = 2 * time.Second

// Ping implements app.Engine: the health of the alias's index (not
// of the whole cluster, so an unrelated red index does not take search
// down). Red — primary shard unassigned, or the index missing, which the
// cluster reports as red after the timeout (408) — is Unavailable.
func (e *Engine) Ping(ctx context.Context) error {
	op := "health of " + e.alias
	status, body, err := e.perform(ctx, op, esapi.ClusterHealthRequest{Index: []string{e.alias}, Timeout: pingTimeout})
	if err != nil {
		return err
	}
	if status != 200 && status != 408 {
		return failure(op, status, body)
	}
	var res struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if res.Status == "red" || res.Status == "" {
		return unavailable(fmt.Errorf("%s: status %q (answer %d)", op, res.Status, status))
	}
	return nil
}

type searchHit struct {
	Index  string          `json:"_index"`
	ID     string          `json:"_id"`
	SeqNo  *int64          `json:"_seq_no"`
	Source json.RawMessage `json:"_source"`
}

type searchResponse struct {
	Hits struct {
		Total *struct {
			Value int64 `json:"value"`
		} `json:"total"`
		Hits []searchHit `json:"hits"`
	} `json:"hits"`
	Aggregations struct {
		Tags struct {
			Buckets []struct {
				Key      string `json:"key"`
				DocCount int64  `json:"doc_count"`
			} `json:"buckets"`
		} `json:"tags"`
	} `json:"aggregations"`
}

func (e *Engine) search(ctx context.Context, op, target string, body map[string]any, into *searchResponse) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	status, resp, err := e.perform(ctx, op, esapi.SearchRequest{Index: []string{target}, Body: bytes.NewReader(raw)})
	if err != nil {
		return err
	}
	if status != 200 {
		return failure(op, status, resp)
	}
	if err := json.Unmarshal(resp, into); err != nil {
		return fmt.Errorf("%s: decode response: %w", op, err)
	}
	return nil
}

// perform sends req and reads the whole response. Only transport failures
// are errors here; callers judge the status.
func (e *Engine) perform(ctx context.Context, op string, req esapi.Request) (int, []byte, error) {
	res, err := req.Do(ctx, e.es)
	if err != nil {
		return 0, nil, transportError(ctx, op, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, transportError(ctx, op, err)
	}
	// Elasticsearch 8 marks every answer; a success from anything else
	// (a proxy's page, another product) is a misconfigured address.
	if res.StatusCode < 300 && res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		return 0, nil, fmt.Errorf("%s: the server at the configured address is not Elasticsearch (no X-Elastic-Product header)", op)
	}
	return res.StatusCode, body, nil
}
