package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"

	"pixshare/contracts/events"
	"pixshare/platform/apperror"
	"pixshare/platform/logging"
	"pixshare/platform/pubsub"
	postv1 "pixshare/proto/post/v1"
	"pixshare/search/internal/domain"
)

// Posts is the part of the post service the indexer calls.
type Posts interface {
	MarkIndexed(ctx context.Context, id string, version int64) error
	ListPosts(ctx context.Context, pageSize int32, token string) ([]*postv1.Post, string, error)
}

// Indexer keeps the read model in step with posts: it applies index
// changes, keeping the highest version per post, reports each applied
// version to the post service, and rebuilds the model from the post
// service alone (re-index).
type Indexer struct {
	engine Engine
	posts  Posts
	logger *zap.Logger
}

// NewIndexer returns an indexer writing to engine.
func NewIndexer(engine Engine, posts Posts, logger *zap.Logger) *Indexer {
	return &Indexer{engine: engine, posts: posts, logger: logger}
}

// Upsert puts a post's searchable fields into the model and reports the
// version to the post service. Redelivery and reordering are safe: the
// engine keeps the highest version, and reporting an older version to the
// post service changes nothing there.
func (ix *Indexer) Upsert(ctx context.Context, doc domain.Doc) error {
	if err := checkVersion(doc.PostID, doc.Version); err != nil {
		return err
	}
	applied, err := ix.engine.Upsert(ctx, doc)
	if err != nil {
		return fmt.Errorf("index %s v%d: %w", doc.PostID, doc.Version, err)
	}
	logging.FromContext(ctx, ix.logger).Debug("indexed", zap.String("post_id", doc.PostID),
		zap.Int64("version", doc.Version), zap.Bool("applied", applied))
	if err := ix.posts.MarkIndexed(ctx, doc.PostID, doc.Version); err != nil {
		switch apperror.KindOf(err) {
		case apperror.NotFound, apperror.Invalid:
			// Deleted meanwhile, or a version the post never had: nothing
			// to report.
			return nil
		}
		return fmt.Errorf("report indexed: %w", err)
	}
	return nil
}

// Remove replaces a post by a tombstone at version.
func (ix *Indexer) Remove(ctx context.Context, postID string, version int64) error {
	if err := checkVersion(postID, version); err != nil {
		return err
	}
	if _, err := ix.engine.Remove(ctx, postID, version); err != nil {
		return fmt.Errorf("remove %s v%d: %w", postID, version, err)
	}
	return nil
}

// checkVersion refuses, as poison, a version no post can have: the read
// model keeps the highest version per post, so one absurd version (a forged
// removal at 2^62) would freeze or bury the post for good.
func checkVersion(postID string, version int64) error {
	if version < 1 || version > events.MaxPostVersion {
		return pubsub.Poison(fmt.Errorf("post %s: version %d is outside 1..%d, the versions a post can have", postID, version, events.MaxPostVersion))
	}
	return nil
}

// Reindex rebuilds the read model from the post service's listing of live
// posts and returns how many were indexed.
func (ix *Indexer) Reindex(ctx context.Context) (int, error) {
	token := ""
	done := false
	start := time.Now()
	n, err := ix.engine.Rebuild(ctx, func(ctx context.Context) ([]domain.Doc, error) {
		if done {
			return nil, io.EOF
		}
		posts, next, err := ix.posts.ListPosts(ctx, 500, token)
		if err != nil {
			return nil, err
		}
		token, done = next, next == ""
		docs := make([]domain.Doc, len(posts))
		for i, p := range posts {
			docs[i] = domain.Doc{PostID: p.GetId(), AuthorID: p.GetAuthorId(), Caption: domain.SearchText(p.GetCaption(), p.GetAltText()), Tags: p.GetTags(),
				Version: p.GetVersion(), CreatedAt: time.UnixMilli(p.GetCreatedAt()).UTC(), UpdatedAt: time.UnixMilli(p.GetUpdatedAt()).UTC()}
		}
		return docs, nil
	})
	if err != nil {
		return n, fmt.Errorf("reindex: %w", err)
	}
	ix.logger.Info("reindex done", zap.Int("posts", n), zap.Duration("took", time.Since(start)))
	return n, nil
}
