// Package readmodel is the search side's read model (CQRS): what the
// indexer writes from post events and the search service queries. Two
// engines implement it — SQL (default: SQLite or PostgreSQL through GORM)
// and Elasticsearch — behind the Engine interface, and one contract test
// suite (package contract) holds both to the same behaviour.
package readmodel

import (
	"context"
	"strings"
	"time"
	"unicode"
)

// Doc is one post as the read model holds it.
type Doc struct {
	PostID    string
	AuthorID  string
	Caption   string
	Tags      []string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Query asks for posts having every tag in Tags and every word of Words
// in their caption, newest first, leaving out posts by ExcludeAuthors.
type Query struct {
	Tags           []string
	Words          []string
	ExcludeAuthors []string
	Limit          int
	Offset         int
}

// Result is a page of matches and how many there are in all.
type Result struct {
	Docs  []Doc
	Total int64
}

// TagCount is a tag and how many live posts carry it.
type TagCount struct {
	Tag   string `json:"tag"`
	Count int64  `json:"count"`
}

// Engine stores and queries the read model. Writes are idempotent and
// versioned: the highest version of a post wins, and a removal is a
// tombstone that an older upsert cannot bring back.
type Engine interface {
	// Upsert stores doc unless the model already holds this post at the
	// same or a higher version (or a tombstone of one). It reports whether
	// doc was applied.
	Upsert(ctx context.Context, doc Doc) (applied bool, err error)
	// Remove replaces the post by a tombstone at version, unless the model
	// holds a higher version.
	Remove(ctx context.Context, postID string, version int64) (applied bool, err error)
	// Get returns the live doc of a post (not tombstones).
	Get(ctx context.Context, postID string) (Doc, bool, error)
	Search(ctx context.Context, q Query) (Result, error)
	// Autocomplete lists tags starting with prefix, most used first, with
	// counts that leave out posts by excludeAuthors.
	Autocomplete(ctx context.Context, prefix string, excludeAuthors []string, limit int) ([]TagCount, error)
	// Generation changes whenever the model changes, so cached query
	// results can be keyed by it.
	Generation(ctx context.Context) (int64, error)
	// Rebuild makes the model hold exactly the given docs (a re-index from
	// the post service). next returns io.EOF after the last page.
	Rebuild(ctx context.Context, next func(ctx context.Context) ([]Doc, error)) (int, error)
	// Ping checks the engine is reachable (readiness).
	Ping(ctx context.Context) error
}

// MaxWordsPerDoc bounds the caption words indexed per post.
const MaxWordsPerDoc = 200

// Words splits text into the lower-case words search matches on: runs of
// letters and digits, 1 to 50 characters, each once, in order of first
// appearance.
func Words(text string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len([]rune(w)) > 50 || seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
		if len(out) == MaxWordsPerDoc {
			break
		}
	}
	return out
}
