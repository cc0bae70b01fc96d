// Package app holds the search service's queries: tag and caption search,
// and tag autocomplete, hiding what blocks hide and caching results keyed
// by the read model's generation.
package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"pixshare/contracts/stamps"
	"pixshare/contracts/tags"
	"pixshare/contracts/userclient"
	"pixshare/platform/apperror"
	"pixshare/platform/cache"
	"pixshare/search/internal/domain"
)

// Blocks returns the users in a block relationship with a user.
type Blocks interface {
	Blocked(ctx context.Context, userID string) ([]string, error)
}

// Author is what a search hit shows of its author (the user service's
// summary).
type Author = userclient.Summary

// Authors looks authors up in the user service, one call per page.
type Authors interface {
	Get(ctx context.Context, ids []string) (map[string]Author, error)
}

// Hits is a page of search results with their authors.
type Hits struct {
	domain.Result
	Authors map[string]Author
}

// LivePosts looks posts up in the post service, their owner: what a hit
// shows is always the live post, and a post deleted (or hidden from the
// viewer) since it was indexed is left out.
type LivePosts interface {
	// Live returns, in the order of ids, the docs of the posts among ids
	// that are live and visible to viewer.
	Live(ctx context.Context, viewer string, ids []string) ([]domain.Doc, error)
}

// Limits of a query. MaxWindow is how deep results can be paged (offset
// plus limit), Elasticsearch's default max_result_window.
const (
	MaxTerms  = 10
	MaxWindow = 10000
)

// Service answers searches.
type Service struct {
	engine  Engine
	blocks  Blocks
	posts   LivePosts
	authors Authors
	cache   cache.Cache
	stamps  cache.StampStore
	ttl     time.Duration
}

// NewService returns the queries over engine; ttl 0 disables caching.
func NewService(engine Engine, blocks Blocks, posts LivePosts, authors Authors, c cache.Cache, s cache.StampStore, ttl time.Duration) *Service {
	return &Service{engine: engine, blocks: blocks, posts: posts, authors: authors, cache: c, stamps: s, ttl: ttl}
}

// Request is a search as received.
type Request struct {
	Viewer string
	Tags   []string
	Text   string
	Limit  int
	Offset int
}

// Search finds posts with every tag and every caption word, newest first.
func (s *Service) Search(ctx context.Context, req Request) (Hits, error) {
	tagList, err := tags.Parse(req.Tags)
	if err != nil {
		return Hits{}, apperror.Invalidf("%s", err.Error()).
			WithFields(apperror.FieldError{Field: "tag", Message: "invalid tag"})
	}
	words := domain.Words(req.Text)
	switch {
	case len(tagList) == 0 && len(words) == 0:
		return Hits{}, apperror.Invalidf("give at least one tag or a q with words").
			WithFields(apperror.FieldError{Field: "tag", Message: "tag or q required"})
	case len(tagList) > MaxTerms || len(words) > MaxTerms:
		return Hits{}, apperror.Invalidf("at most %d tags and %d words", MaxTerms, MaxTerms)
	case req.Offset+req.Limit > MaxWindow:
		return Hits{}, apperror.Invalidf("offset + limit may be at most %d; narrow the search instead", MaxWindow).
			WithFields(apperror.FieldError{Field: "offset", Message: "too deep"})
	}
	q := domain.Query{Tags: tagList, Words: words, Limit: req.Limit, Offset: req.Offset}
	var res domain.Result
	key, cacheable := s.cacheKey(ctx, "search", req.Viewer, fmt.Sprint(tagList, words, req.Limit, req.Offset))
	if cacheable && s.cache.Get(ctx, key, &res) {
		return s.live(ctx, req.Viewer, res)
	}
	if q.ExcludeAuthors, err = s.excluded(ctx, req.Viewer); err != nil {
		return Hits{}, err
	}
	res, err = s.engine.Search(ctx, q)
	if err != nil {
		return Hits{}, err
	}
	if cacheable {
		s.cache.Set(ctx, key, res, s.ttl)
	}
	return s.live(ctx, req.Viewer, res)
}

// live replaces the read model's copies of the hits by the live posts,
// with their authors.
func (s *Service) live(ctx context.Context, viewer string, res domain.Result) (Hits, error) {
	if len(res.Docs) == 0 {
		return Hits{Result: res, Authors: map[string]Author{}}, nil
	}
	ids := make([]string, len(res.Docs))
	for i, d := range res.Docs {
		ids[i] = d.PostID
	}
	docs, err := s.posts.Live(ctx, viewer, ids)
	if err != nil {
		return Hits{}, err
	}
	authorIDs := make([]string, 0, len(docs))
	for _, d := range docs {
		authorIDs = append(authorIDs, d.AuthorID)
	}
	authors, err := s.authors.Get(ctx, authorIDs)
	if err != nil {
		return Hits{}, err
	}
	return Hits{Result: domain.Result{Docs: docs, Total: res.Total}, Authors: authors}, nil
}

// Autocomplete lists tags starting with prefix, most used first.
func (s *Service) Autocomplete(ctx context.Context, viewer, prefix string, limit int) ([]domain.TagCount, error) {
	p := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(prefix)), "#")
	norm, err := tags.Normalize(p)
	if err != nil {
		return nil, apperror.Invalidf("prefix must be the start of a tag: %s", err.Error()).
			WithFields(apperror.FieldError{Field: "prefix", Message: "invalid prefix"})
	}
	var out []domain.TagCount
	key, cacheable := s.cacheKey(ctx, "complete", viewer, fmt.Sprint(norm, limit))
	if cacheable && s.cache.Get(ctx, key, &out) {
		return out, nil
	}
	excluded, err := s.excluded(ctx, viewer)
	if err != nil {
		return nil, err
	}
	out, err = s.engine.Autocomplete(ctx, norm, excluded, limit)
	if err != nil {
		return nil, err
	}
	if cacheable {
		s.cache.Set(ctx, key, out, s.ttl)
	}
	return out, nil
}

func (s *Service) excluded(ctx context.Context, viewer string) ([]string, error) {
	if viewer == "" {
		return nil, nil
	}
	return s.blocks.Blocked(ctx, viewer)
}

// cacheKey includes the read model's generation, so a cached page never
// outlives the write (an indexed removal, say) that changed the model. The
// viewer and the viewer's stamp are part of the key: blocks differ per
// viewer, and a new block or unblock replaces the stamp.
func (s *Service) cacheKey(ctx context.Context, kind, viewer, query string) (string, bool) {
	if s.ttl <= 0 {
		return "", false
	}
	gen, err := s.engine.Generation(ctx)
	if err != nil {
		return "", false
	}
	var stamp cache.Stamp
	if viewer != "" {
		stamp = cache.Current(ctx, s.stamps, stamps.User(viewer))[0]
		if !stamp.Usable() {
			return "", false
		}
	}
	sum := sha256.Sum256([]byte(viewer + "\x00" + string(stamp) + "\x00" + query))
	return fmt.Sprintf("%s:%d:%s", kind, gen, hex.EncodeToString(sum[:16])), true
}
