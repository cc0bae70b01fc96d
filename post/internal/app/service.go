package app

import (
	"bytes"
	"context"
	"errors"
	"io"
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
	// Downloads bounds the bytes of images being served (nil: no bound).
	Downloads *Budget
	// Wait bounds the reads that wait for a processing post to move on.
	Wait WaitConfig
}

// Service is the post service's use cases.
//
// Each replica keeps the posts it read, and whether a viewer likes one,
// under the post's stamp (stamps.Post): a copy is served only while that
// stamp is still the one it was read under. An edit or a deletion changes
// the stamp before its answer leaves (StampStore.Change), so no copy
// outlives it on any replica; a like, a comment count or a processing
// report renews the stamp after its commit (StampStore.Touch), so this
// replica shows it at once and the others within the stamps' reading
// window.
type Service struct {
	repo    Repository
	images  Images
	graph   Graph
	authors Authors
	// stamps tell every replica, and other services' caches, that a post
	// changed.
	stamps cache.StampStore
	posts  *cache.Checked[domain.Post]
	liked  *cache.Checked[bool]
	cfg    Config
	logger *zap.Logger
	// waiters are the reads waiting for a post's processing to move on.
	waiters *waiters
}

// Bounds of the copies a replica keeps: a post is about a kilobyte. The
// age bound is only a backstop; stamps decide what is served.
const (
	postsKept  = 10000
	likesKept  = 20000
	copyMaxAge = 10 * time.Minute
)

// NewService returns the use cases over the given ports.
func NewService(repo Repository, images Images, graph Graph, authors Authors, s cache.StampStore, cfg Config, logger *zap.Logger) *Service {
	return &Service{repo: repo, images: images, graph: graph, authors: authors, stamps: s, cfg: cfg, logger: logger,
		waiters: newWaiters(cfg.Wait.Waiters),
		posts:   cache.NewChecked[domain.Post](s, postsKept, copyMaxAge),
		liked:   cache.NewChecked[bool](s, likesKept, copyMaxAge)}
}

// Upload is a new post as received.
type Upload struct {
	// Image yields the image bytes. It is read once, as a stream: only
	// its header is held, to check it before anything is stored.
	Image   io.Reader
	Caption string
	AltText string
	Tags    []string
	// IdempotencyKey, when set, makes a retried upload return the post the
	// first attempt created instead of a second one.
	IdempotencyKey string
	// Finish, when set, is called once Image is read to its end: it reads
	// what the request sends after the image (a form may put its text
	// fields there) into the upload, and fails if the request broke off.
	Finish func(*Upload) error
}

// maxHeaderBytes bounds the head of an upload held to read its header:
// a JPEG's header (SOF) comes after its APPn segments (EXIF, XMP, ICC),
// at most 64 KiB each and rarely more than a few hundred KiB in all. A
// header that does not end within it is refused as corrupt.
const maxHeaderBytes = 1 << 20

// checkFields validates the text fields of an upload.
func checkFields(up Upload) (caption, alt string, tags []string, err error) {
	if caption, err = domain.CheckCaption(up.Caption); err != nil {
		return "", "", nil, err
	}
	if tags, err = domain.ParseTags(up.Tags); err != nil {
		return "", "", nil, err
	}
	if alt, err = domain.CheckAltText(up.AltText); err != nil {
		return "", "", nil, err
	}
	return caption, alt, tags, nil
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
	// The fields sent before the image are checked before anything is
	// stored; those sent after it, once it is.
	if _, _, _, err := checkFields(up); err != nil {
		return domain.Post{}, err
	}
	// Only the head of the stream is held: the header is read from it,
	// then the head and the rest go to the blob store as one stream.
	head := &headReader{r: up.Image, max: maxHeaderBytes}
	info, err := media.Inspect(head, s.cfg.MaxPixels)
	if err != nil {
		if head.err != nil {
			return domain.Post{}, head.err // the request's own failure (413, a body cut short)
		}
		// The rest is read and dropped (a few buffers, never held, and
		// bounded by the size limit), so a body over the limit gets its
		// 413 whatever its head, as when uploads were read whole.
		if _, derr := io.Copy(io.Discard, up.Image); apperror.Is(derr, apperror.TooLarge) {
			return domain.Post{}, derr
		}
		return domain.Post{}, media.Problem(err, s.cfg.MaxPixels)
	}
	var used int64
	if s.cfg.Quota > 0 {
		// Checked again when the post is inserted, under the author's
		// lock; this spares storing an upload that cannot fit.
		if used, err = s.repo.StoredBytes(ctx, author); err != nil {
			return domain.Post{}, err
		}
		if used >= s.cfg.Quota {
			return domain.Post{}, QuotaExceeded(used, s.cfg.Quota)
		}
	}
	id := uuid.Must(uuid.NewV7()).String()
	p := domain.Post{
		ID: id, AuthorID: author, Status: domain.StatusProcessing,
		Version: 1, OriginalKey: media.OriginalKey(id), Format: string(info.Format), Width: info.Width, Height: info.Height,
		IdempotencyKey: up.IdempotencyKey,
	}
	// Garbage until the post is inserted: if this process dies between
	// storing the original and inserting the post, the janitor still
	// deletes the original.
	if err := s.repo.MarkBlobsGarbage(ctx, id); err != nil {
		return domain.Post{}, err
	}
	src := io.MultiReader(bytes.NewReader(head.buf), up.Image)
	if s.cfg.Quota > 0 {
		// The stream stops, and nothing is stored, as soon as the upload
		// would not fit.
		src = &quotaReader{r: src, left: s.cfg.Quota - used, used: used, quota: s.cfg.Quota}
	}
	head.buf = nil
	if p.Size, err = s.images.Write(ctx, p.OriginalKey, src); err != nil {
		return domain.Post{}, err
	}
	err = s.finishUpload(ctx, &p, up)
	if err == nil {
		err = s.repo.Create(ctx, &p, s.cfg.Quota)
	}
	if err != nil {
		// Undo the blob so a failed upload leaves nothing behind.
		if delErr := s.images.Delete(context.WithoutCancel(ctx), p.OriginalKey); delErr != nil {
			logging.FromContext(ctx, s.logger).Warn("orphan original left after failed upload",
				zap.String("key", p.OriginalKey), zap.Error(delErr))
		}
		return domain.Post{}, err
	}
	return p, nil
}

// finishUpload reads what followed the image and checks the fields.
func (s *Service) finishUpload(_ context.Context, p *domain.Post, up Upload) error {
	if up.Finish != nil {
		if err := up.Finish(&up); err != nil {
			return err
		}
	}
	caption, alt, tags, err := checkFields(up)
	if err != nil {
		return err
	}
	p.Caption, p.AltText, p.Tags = caption, alt, tags
	return nil
}

// headReader holds what is read through it, up to max bytes (then it
// ends, and the header reader sees a truncated file), and keeps the
// first error of the stream other than io.EOF: that is the request's
// failure, not the image's.
type headReader struct {
	r   io.Reader
	buf []byte
	max int
	err error
}

func (h *headReader) Read(p []byte) (int, error) {
	if len(h.buf) >= h.max {
		return 0, io.EOF
	}
	p = p[:min(len(p), h.max-len(h.buf))]
	n, err := h.r.Read(p)
	h.buf = append(h.buf, p[:n]...)
	if err != nil && err != io.EOF && h.err == nil {
		h.err = err
	}
	return n, err
}

// quotaReader fails once more than left bytes were read.
type quotaReader struct {
	r           io.Reader
	left        int64
	used, quota int64
}

func (q *quotaReader) Read(p []byte) (int, error) {
	n, err := q.r.Read(p)
	q.left -= int64(n)
	if q.left < 0 {
		return 0, QuotaExceeded(q.used, q.quota)
	}
	return n, err
}

// load returns a live post.
func (s *Service) load(ctx context.Context, id string) (domain.Post, error) {
	return s.posts.Get(ctx, id, []string{stamps.Post(id)}, func(ctx context.Context) (domain.Post, error) {
		return s.repo.ByID(ctx, id)
	})
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
	// An edit is seen by the next request on every replica: the post's
	// stamp changes before the answer leaves.
	var edited domain.Post
	err := s.stamps.Change(ctx, []string{stamps.Post(id)}, func() error {
		var err error
		edited, err = s.repo.Update(ctx, id, func(p *domain.Post) error {
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
		return err
	})
	return edited, err
}

// Delete removes a post; only the author may.
func (s *Service) Delete(ctx context.Context, actor, id string) error {
	if err := s.authorOnly(ctx, actor, id); err != nil {
		return err
	}
	// Other services keep that the post exists (comments check it): its
	// stamp changes before the answer leaves.
	err := s.stamps.Change(ctx, []string{stamps.Post(id)}, func() error {
		_, err := s.repo.Delete(ctx, id, requireAuthor(actor))
		return err
	})
	if err == nil {
		s.waiters.notify(id)
	}
	return err
}

// ImageStream is one size of a post's image, read from the blob store as
// it is served. Close it.
type ImageStream struct {
	io.Reader
	// Length is the byte count (-1: unknown): the blob store's, or the
	// one the thumbnailer reported.
	Length  int64
	close   func() error
	release func()
}

// Close ends the transfer and gives its bytes back to the budget.
func (i *ImageStream) Close() error {
	err := i.close()
	i.release()
	return err
}

// renditionCharge is what a rendition other than the original is charged
// against the download budget: the largest (2048 px JPEG) stays well
// below it.
const renditionCharge = 1 << 20

// ImagePost returns the post whose image of size viewer asks for, once
// viewer may see it and its images are made; a size the thumbnailer has
// not made yet is NotFound with a Retry-After. Image bytes never change,
// so this is all a conditional request needs: a client or a cache that
// holds the bytes is answered without opening them (OpenImage).
func (s *Service) ImagePost(ctx context.Context, viewer, id, size string) (domain.Post, error) {
	if !media.ValidSize(size) {
		return domain.Post{}, apperror.Invalidf("size must be one of thumb, small, medium, large, original").
			WithFields(apperror.FieldError{Field: "size", Message: "unknown size"})
	}
	p, err := s.Get(ctx, viewer, id)
	if err != nil {
		return domain.Post{}, err
	}
	if !p.ThumbnailReady {
		if p.Status == domain.StatusFailed {
			return domain.Post{}, apperror.NotFoundf("this post's image could not be processed")
		}
		return domain.Post{}, apperror.NotFoundf("the %s size is not ready yet", size).WithRetryAfter(s.cfg.RetryAfter)
	}
	return p, nil
}

// OpenImage opens size of p, a post ImagePost returned, charging the
// download budget until the stream is closed; a download over the budget
// is Unavailable with a Retry-After.
func (s *Service) OpenImage(ctx context.Context, p domain.Post, size string) (*ImageStream, error) {
	release := func() {}
	if s.cfg.Downloads != nil {
		// The original's rendition is about the size of the upload.
		charge := int64(renditionCharge)
		if size == media.SizeOriginal {
			charge = max(charge, p.Size)
		}
		var err error
		if release, err = s.cfg.Downloads.Acquire(ctx, charge); err != nil {
			return nil, err
		}
	}
	body, n, err := s.images.Open(ctx, media.RenditionKey(p.ID, size))
	if err != nil {
		release()
		if errors.Is(err, blob.ErrNotFound) {
			return nil, apperror.NotFoundf("the %s size is not available", size).WithRetryAfter(s.cfg.RetryAfter)
		}
		return nil, err
	}
	if k := p.RenditionBytes[size]; n < 0 && k > 0 {
		// The sidecar's binding API sends blobs without their length;
		// the thumbnailer reported it.
		n = k
	}
	return &ImageStream{Reader: body, Length: n, close: body.Close, release: release}, nil
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
