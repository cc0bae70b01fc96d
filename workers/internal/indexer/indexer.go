// Package indexer is the indexer app: it applies post index events to the
// search read model, keeping the highest version per post, and reports
// each applied version to the post service. It also rebuilds the read
// model from the post service alone (re-index).
package indexer

import (
	"context"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"

	"pixshare/platform/apperror"
	"pixshare/platform/events"
	"pixshare/platform/logging"
	postevents "pixshare/post/events"
	postv1 "pixshare/proto/post/v1"
	"pixshare/search/readmodel"
)

// Posts is the part of post.v1 the indexer calls.
type Posts interface {
	MarkIndexed(ctx context.Context, id string, version int64) error
	ListPosts(ctx context.Context, pageSize int32, token string) ([]*postv1.Post, string, error)
}

// Indexer applies index events.
type Indexer struct {
	engine readmodel.Engine
	posts  Posts
	logger *zap.Logger
}

// New returns an indexer writing to engine.
func New(engine readmodel.Engine, posts Posts, logger *zap.Logger) *Indexer {
	return &Indexer{engine: engine, posts: posts, logger: logger}
}

// Upsert handles post.index.upsert. Redelivery and reordering are safe:
// the engine keeps the highest version, and reporting an older version to
// the post service changes nothing there.
func (ix *Indexer) Upsert(ctx context.Context, ev events.Event) error {
	e, err := postevents.ParseIndexUpsert(ev.Data)
	if err != nil {
		return err
	}
	applied, err := ix.engine.Upsert(ctx, readmodel.Doc{
		PostID: e.PostID, AuthorID: e.AuthorID, Caption: e.Caption, Tags: e.Tags,
		Version: e.Version, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	})
	if err != nil {
		return fmt.Errorf("index %s v%d: %w", e.PostID, e.Version, err)
	}
	logging.FromContext(ctx, ix.logger).Debug("indexed", zap.String("post_id", e.PostID),
		zap.Int64("version", e.Version), zap.Bool("applied", applied))
	if err := ix.posts.MarkIndexed(ctx, e.PostID, e.Version); err != nil {
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

// Remove handles post.index.remove.
func (ix *Indexer) Remove(ctx context.Context, ev events.Event) error {
	e, err := postevents.ParseIndexRemove(ev.Data)
	if err != nil {
		return err
	}
	if _, err := ix.engine.Remove(ctx, e.PostID, e.Version); err != nil {
		return fmt.Errorf("remove %s v%d: %w", e.PostID, e.Version, err)
	}
	return nil
}

// Reindex rebuilds the read model from the post service's listing of live
// posts and returns how many were indexed.
func (ix *Indexer) Reindex(ctx context.Context) (int, error) {
	token := ""
	done := false
	start := time.Now()
	n, err := ix.engine.Rebuild(ctx, func(ctx context.Context) ([]readmodel.Doc, error) {
		if done {
			return nil, io.EOF
		}
		posts, next, err := ix.posts.ListPosts(ctx, 500, token)
		if err != nil {
			return nil, err
		}
		token, done = next, next == ""
		docs := make([]readmodel.Doc, len(posts))
		for i, p := range posts {
			docs[i] = readmodel.Doc{PostID: p.GetId(), AuthorID: p.GetAuthorId(), Caption: p.GetCaption(), Tags: p.GetTags(),
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
