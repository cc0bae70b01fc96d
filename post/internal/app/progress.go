package app

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"pixshare/contracts/media"
	"pixshare/contracts/stamps"
	"pixshare/platform/apperror"
	"pixshare/platform/logging"
	"pixshare/post/internal/domain"
)

// maxRenditionBytes bounds a reported rendition's size: far above any
// rendition of a picture within the pixel limit, it only keeps nonsense
// out of the Content-Length of image answers.
const maxRenditionBytes = 1 << 30

// MarkThumbnailReady records a worker's report that every size exists,
// with the byte count of each (renditionBytes may be empty: older workers
// do not report it).
func (s *Service) MarkThumbnailReady(ctx context.Context, id string, version int64, width, height int,
	renditionBytes map[string]int64) (domain.Post, error) {
	for name, n := range renditionBytes {
		if !media.ValidSize(name) || n <= 0 || n > maxRenditionBytes {
			return domain.Post{}, apperror.Invalidf("rendition_bytes: %q=%d: want a size name and 1 to %d bytes", name, n, maxRenditionBytes)
		}
	}
	return s.report(ctx, id, version, func(p *domain.Post) { p.MarkThumbnailsReady(width, height, renditionBytes) })
}

// MarkIndexed records a worker's report that the index holds version.
func (s *Service) MarkIndexed(ctx context.Context, id string, version int64) (domain.Post, error) {
	return s.report(ctx, id, version, func(p *domain.Post) { p.MarkIndexed(version) })
}

// MarkFailed records a worker's report that the image cannot be processed.
func (s *Service) MarkFailed(ctx context.Context, id string, version int64, reason string) (domain.Post, error) {
	return s.report(ctx, id, version, func(p *domain.Post) { p.Fail(reason) })
}

func (s *Service) report(ctx context.Context, id string, version int64, apply func(*domain.Post)) (domain.Post, error) {
	if id == "" {
		return domain.Post{}, apperror.Invalidf("post_id is required")
	}
	p, err := s.repo.Update(ctx, id, func(p *domain.Post) error {
		if err := p.CheckReport(version); err != nil {
			return err
		}
		apply(p)
		return nil
	}, false)
	if errors.Is(err, domain.ErrNoPost) {
		// A worker wrote renditions of a post deleted meanwhile: they are
		// garbage too, from now.
		if gerr := s.repo.MarkBlobsGarbage(ctx, id); gerr != nil {
			return domain.Post{}, gerr
		}
	}
	if err != nil {
		return domain.Post{}, err
	}
	s.stamps.Touch(ctx, []string{stamps.Post(id)})
	s.waiters.notify(id)
	return p, nil
}

// OnUserDeleted removes every post of a deleted user (and, through the
// outbox, their index entries and comments).
func (s *Service) OnUserDeleted(ctx context.Context, userID string) error {
	ids, err := s.repo.DeleteByAuthor(ctx, userID)
	if err != nil {
		return err
	}
	liked, err := s.repo.RemoveLikesBy(ctx, userID)
	if err != nil {
		return err
	}
	s.stamps.Touch(ctx, postSubjects(liked))
	if len(ids) > 0 {
		// The posts are gone already; a new stamp each tells the others'
		// caches so. (This follows an event, not a client's request: there
		// is no answer to hold back until it lands.)
		if err := s.stamps.Change(ctx, postSubjects(ids), func() error { return nil }); err != nil {
			// The comment service also learns each deletion from its
			// post.deleted event, and refuses comments from then on.
			logging.FromContext(ctx, s.logger).Warn("stamps of a deleted user's posts not renewed", zap.Error(err))
		}
		s.waiters.notify(ids...)
		logging.FromContext(ctx, s.logger).Info("posts of deleted user removed",
			zap.String("author_id", userID), zap.Int("posts", len(ids)))
	}
	return nil
}

// postSubjects names the stamps of posts.
func postSubjects(ids []string) []string {
	subjects := make([]string, len(ids))
	for i, id := range ids {
		subjects[i] = stamps.Post(id)
	}
	return subjects
}

// OnComment keeps comment_count in step with comment events.
func (s *Service) OnComment(ctx context.Context, postID, commentID string, deleted bool) error {
	if postID == "" || commentID == "" {
		return apperror.Invalidf("post_id and comment_id are required")
	}
	counted, err := s.repo.CountComment(ctx, postID, commentID, deleted)
	if err != nil {
		return err
	}
	if counted {
		s.stamps.Touch(ctx, []string{stamps.Post(postID)})
	}
	return nil
}

// Reconcile re-requests what posts stuck in processing are missing, so no
// single lost message or crash leaves a post unprocessed.
func (s *Service) Reconcile(ctx context.Context, olderThan time.Duration) (int, error) {
	stale, err := s.repo.Stale(ctx, time.Now().Add(-olderThan), 100)
	if err != nil {
		return 0, err
	}
	for _, p := range stale {
		if err := s.repo.Rerequest(ctx, p); err != nil {
			return 0, err
		}
	}
	if len(stale) > 0 {
	}
	return len(stale), nil
}

// All pages every live post (re-index).
func (s *Service) All(ctx context.Context, after string, limit int) ([]domain.Post, error) {
	return s.repo.All(ctx, after, limit)
}
