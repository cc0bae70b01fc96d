package app

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"pixshare/contracts/events"
	"pixshare/contracts/media"
	"pixshare/contracts/stamps"
	"pixshare/platform/apperror"
	"pixshare/platform/blob"
	"pixshare/platform/cache"
	"pixshare/platform/logging"
	"pixshare/post/internal/domain"
)

// Config holds the limits the use cases enforce.
type Config struct {
	MaxPixels  int64
	RetryAfter time.Duration
	// Quota bounds the bytes of an author's live posts (0: none).
	Quota int64
	// BlobGrace is how long a deleted post's blobs (and an upload's that
	// never became a post) stay before they are deleted.
	BlobGrace time.Duration
}

// Service is the post service's use cases. Posts are read from the
// database, their owner, on every request: no copy of a post can outlive
// its edit or deletion on any replica.
type Service struct {
	repo    Repository
	images  Images
	graph   Graph
	authors Authors
	// stamps tell other services' caches that a post is gone.
	stamps cache.StampStore
	cfg    Config
	logger *zap.Logger
}

// NewService returns the use cases over the given ports.
func NewService(repo Repository, images Images, graph Graph, authors Authors, s cache.StampStore, cfg Config, logger *zap.Logger) *Service {
	return &Service{repo: repo, images: images, graph: graph, authors: authors, stamps: s, cfg: cfg, logger: logger}
}

// Upload is a new post as received.
type Upload struct {
	Image   []byte
	Caption string
	AltText string
	Tags    []string
	// IdempotencyKey, when set, makes a retried upload return the post the
	// first attempt created instead of a second one.
	IdempotencyKey string
}

// Create validates an upload, stores the original and the post (with its
// events), in that order: a refused upload stores nothing, and a post row
// never points at a missing original. A retry with the same idempotency
// key returns the first attempt's post (replayed = true).
func (s *Service) Create(ctx context.Context, author string, up Upload) (p domain.Post, replayed bool, err error) {
	if up.IdempotencyKey != "" {
		if p, err := s.repo.ByIdempotencyKey(ctx, author, up.IdempotencyKey); err == nil {
			return p, true, nil
		} else if !errors.Is(err, domain.ErrNoPost) {
			return domain.Post{}, false, err
		}
	}
	p, err = s.create(ctx, author, up)
	if errors.Is(err, ErrDuplicateUpload) {
		// A concurrent retry won the race; answer with its post.
		p, err = s.repo.ByIdempotencyKey(ctx, author, up.IdempotencyKey)
		return p, err == nil, err
	}
	return p, false, err
}

func (s *Service) create(ctx context.Context, author string, up Upload) (domain.Post, error) {
	caption, err := domain.CheckCaption(up.Caption)
	if err != nil {
		return domain.Post{}, err
	}
	tags, err := domain.ParseTags(up.Tags)
	if err != nil {
		return domain.Post{}, err
	}
	alt, err := domain.CheckAltText(up.AltText)
	if err != nil {
		return domain.Post{}, err
	}
	info, err := media.Inspect(bytes.NewReader(up.Image), s.cfg.MaxPixels)
	if err != nil {
		return domain.Post{}, media.Problem(err, s.cfg.MaxPixels)
	}
	id := uuid.Must(uuid.NewV7()).String()
	p := domain.Post{
		ID: id, AuthorID: author, Caption: caption, AltText: alt, Tags: tags, Status: domain.StatusProcessing,
		Version: 1, OriginalKey: media.OriginalKey(id), Format: string(info.Format), Width: info.Width, Height: info.Height,
		IdempotencyKey: up.IdempotencyKey,
	}
	p.Size = int64(len(up.Image))
	if s.cfg.Quota > 0 {
		// Checked again when the post is inserted, under the author's
		// lock; this spares storing an upload that cannot fit.
		used, err := s.repo.StoredBytes(ctx, author)
		if err != nil {
			return domain.Post{}, err
		}
		if used+p.Size > s.cfg.Quota {
			return domain.Post{}, QuotaExceeded(used, s.cfg.Quota)
		}
	}
	// Garbage until the post is inserted: if this process dies between
	// storing the original and inserting the post, the janitor still
	// deletes the original.
	if err := s.repo.MarkBlobsGarbage(ctx, id); err != nil {
		return domain.Post{}, err
	}
	if err := s.images.Put(ctx, p.OriginalKey, up.Image); err != nil {
		return domain.Post{}, err
	}
	if err := s.repo.Create(ctx, &p, s.cfg.Quota); err != nil {
		// Undo the blob so a failed upload leaves nothing behind.
		if delErr := s.images.Delete(context.WithoutCancel(ctx), p.OriginalKey); delErr != nil {
			logging.FromContext(ctx, s.logger).Warn("orphan original left after failed upload",
				zap.String("key", p.OriginalKey), zap.Error(delErr))
		}
		return domain.Post{}, err
	}
	return p, nil
}

// load returns a live post.
func (s *Service) load(ctx context.Context, id string) (domain.Post, error) {
	return s.repo.ByID(ctx, id)
}

// visible reports NotFound when viewer and author block each other.
func (s *Service) visible(ctx context.Context, viewer string, p domain.Post) error {
	if viewer == "" || viewer == p.AuthorID {
		return nil
	}
	blocked, err := s.graph.IsBlocked(ctx, viewer, p.AuthorID)
	if err != nil {
		return err
	}
	if blocked {
		return domain.ErrNoPost
	}
	return nil
}

// Get returns a post as seen by viewer ("" for anonymous).
func (s *Service) Get(ctx context.Context, viewer, id string) (domain.Post, error) {
	p, err := s.load(ctx, id)
	if err != nil {
		return domain.Post{}, err
	}
	if err := s.visible(ctx, viewer, p); err != nil {
		return domain.Post{}, err
	}
	return p, nil
}

// MaxBatch is the most posts GetMany looks up at once.
const MaxBatch = 100

// GetMany returns, in the order of ids, the live posts among them that
// viewer ("" for anonymous) may see.
func (s *Service) GetMany(ctx context.Context, viewer string, ids []string) ([]domain.Post, error) {
	if len(ids) > MaxBatch {
		return nil, apperror.Invalidf("at most %d posts at once", MaxBatch)
	}
	if len(ids) == 0 {
		return []domain.Post{}, nil
	}
	found, err := s.repo.ByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	hidden := map[string]bool{}
	if viewer != "" {
		blocked, err := s.graph.Blocked(ctx, viewer)
		if err != nil {
			return nil, err
		}
		for _, id := range blocked {
			hidden[id] = true
		}
	}
	byID := make(map[string]domain.Post, len(found))
	for _, p := range found {
		if !hidden[p.AuthorID] {
			byID[p.ID] = p
		}
	}
	out := make([]domain.Post, 0, len(byID))
	for _, id := range ids {
		if p, ok := byID[id]; ok {
			out = append(out, p)
			delete(byID, id)
		}
	}
	return out, nil
}

// authorOnly refuses anyone but the author: NotFound when the post is
// hidden from them by a block, Forbidden otherwise. It runs before the
// write transaction, so no remote call holds a database lock.
func (s *Service) authorOnly(ctx context.Context, actor, id string) error {
	p, err := s.repo.ByID(ctx, id)
	if err != nil {
		return err
	}
	if p.AuthorID == actor {
		return nil
	}
	if err := s.visible(ctx, actor, p); err != nil {
		return err
	}
	return domain.ErrNotAuthor
}

func requireAuthor(actor string) func(p domain.Post) error {
	return func(p domain.Post) error {
		if p.AuthorID != actor {
			return domain.ErrNotAuthor
		}
		return nil
	}
}

// Edit changes caption and/or tags; only the author may.
func (s *Service) Edit(ctx context.Context, actor, id string, edit domain.Edit) (domain.Post, error) {
	if err := s.authorOnly(ctx, actor, id); err != nil {
		return domain.Post{}, err
	}
	return s.repo.Update(ctx, id, func(p *domain.Post) error {
		if err := requireAuthor(actor)(*p); err != nil {
			return err
		}
		// Versions stay below the bound consumers hold index changes to,
		// with room for the deletion's bump.
		if p.Version >= events.MaxPostVersion-1 {
			return apperror.New(apperror.Conflict, "this post cannot be edited any more")
		}
		edit.Apply(p)
		return nil
	}, true)
}

// Delete removes a post; only the author may.
func (s *Service) Delete(ctx context.Context, actor, id string) error {
	if err := s.authorOnly(ctx, actor, id); err != nil {
		return err
	}
	// Other services keep that the post exists (comments check it): its
	// stamp changes before the answer leaves.
	return s.stamps.Change(ctx, []string{stamps.Post(id)}, func() error {
		_, err := s.repo.Delete(ctx, id, requireAuthor(actor))
		return err
	})
}

// Image returns the bytes of one size of a post's image. A size the
// thumbnailer has not made yet is NotFound with a Retry-After.
func (s *Service) Image(ctx context.Context, viewer, id, size string) ([]byte, error) {
	if !media.ValidSize(size) {
		return nil, apperror.Invalidf("size must be one of thumb, small, medium, large, original").
			WithFields(apperror.FieldError{Field: "size", Message: "unknown size"})
	}
	p, err := s.Get(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	if !p.ThumbnailReady {
		if p.Status == domain.StatusFailed {
			return nil, apperror.NotFoundf("this post's image could not be processed")
		}
		return nil, apperror.NotFoundf("the %s size is not ready yet", size).WithRetryAfter(s.cfg.RetryAfter)
	}
	data, err := s.images.Get(ctx, media.RenditionKey(id, size))
	if errors.Is(err, blob.ErrNotFound) {
		return nil, apperror.NotFoundf("the %s size is not available", size).WithRetryAfter(s.cfg.RetryAfter)
	}
	return data, err
}

// Feed pages the viewer's feed: their own posts and the ready posts of
// whom they follow (blocks remove follows, so blocked users are absent).
func (s *Service) Feed(ctx context.Context, viewer, before string, limit int) ([]domain.Post, error) {
	following, err := s.graph.Following(ctx, viewer)
	if err != nil {
		return nil, err
	}
	return s.repo.Feed(ctx, viewer, following, before, limit)
}

// ByAuthor pages an author's posts as seen by viewer.
func (s *Service) ByAuthor(ctx context.Context, viewer, author, before string, limit int) ([]domain.Post, error) {
	if viewer != "" && viewer != author {
		blocked, err := s.graph.IsBlocked(ctx, viewer, author)
		if err != nil {
			return nil, err
		}
		if blocked {
			return []domain.Post{}, nil
		}
	}
	return s.repo.ByAuthor(ctx, author, viewer == author, before, limit)
}
