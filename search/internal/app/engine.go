package app

import (
	"context"

	"pixshare/search/internal/domain"
)

// The read model has two engines behind this port: SQL (default: SQLite or
// PostgreSQL through GORM) and Elasticsearch. One contract suite
// (adapters/contract) holds both to the same behaviour.

// Engine stores and queries the read model. Writes are idempotent and
// versioned: the highest version of a post wins, and a removal is a
// tombstone that an older upsert cannot bring back.
type Engine interface {
	// Upsert stores doc unless the model already holds this post at the
	// same or a higher version (or a tombstone of one). It reports whether
	// doc was applied.
	Upsert(ctx context.Context, doc domain.Doc) (applied bool, err error)
	// Remove replaces the post by a tombstone at version, unless the model
	// holds a higher version.
	Remove(ctx context.Context, postID string, version int64) (applied bool, err error)
	// Get returns the live doc of a post (not tombstones).
	Get(ctx context.Context, postID string) (domain.Doc, bool, error)
	Search(ctx context.Context, q domain.Query) (domain.Result, error)
	// Autocomplete lists tags starting with prefix, most used first, with
	// counts that leave out posts by excludeAuthors.
	Autocomplete(ctx context.Context, prefix string, excludeAuthors []string, limit int) ([]domain.TagCount, error)
	// Generation changes whenever the model changes, so cached query
	// results can be keyed by it.
	Generation(ctx context.Context) (int64, error)
	// Rebuild makes the model hold exactly the given docs (a re-index from
	// the post service). next returns io.EOF after the last page.
	Rebuild(ctx context.Context, next func(ctx context.Context) ([]domain.Doc, error)) (int, error)
	// Ping checks the engine is reachable (readiness).
	Ping(ctx context.Context) error
}
