// Package app is the thumbnailer's use case: make every size of a post's
// image and report to the post service.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"pixshare/contracts/media"
	"pixshare/platform/apperror"
	"pixshare/platform/blob"
	"pixshare/platform/logging"
	"pixshare/workers/internal/domain"
)

// Posts is the part of the post service the thumbnailer calls. Get and the
// reports answer NotFound for a post that is gone.
type Posts interface {
	Get(ctx context.Context, id string) (domain.Post, error)
	MarkThumbnailReady(ctx context.Context, id string, version int64, width, height int) error
	MarkFailed(ctx context.Context, id string, version int64, reason string) error
}

// Images reads originals and stores renditions (blob.ErrNotFound when a
// key is missing).
type Images interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, data []byte) error
}

// Renderer makes the renditions of an original: the clean "original"
// first, then every size. Pictures that can never be made fail with
// media.ErrCorrupt, ErrTooManyPixels or ErrUnsupportedFormat.
type Renderer interface {
	Render(ctx context.Context, original []byte) ([]domain.Rendition, error)
}

// ErrPermanent marks a request that no retry can help: the post was
// reported failed, and the message belongs on the dead-letter topic.
var ErrPermanent = errors.New("cannot be processed")

// Thumbnailer handles thumbnail requests.
type Thumbnailer struct {
	posts          Posts
	avatars        Avatars
	images         Images
	renderer       Renderer
	avatarRenderer AvatarRenderer
	// slots bounds the images in flight (and so the memory used).
	slots  chan struct{}
	logger *zap.Logger
}

// NewThumbnailer returns a thumbnailer processing at most concurrency
// images at once.
func NewThumbnailer(posts Posts, avatars Avatars, images Images, renderer Renderer, avatarRenderer AvatarRenderer, concurrency int, logger *zap.Logger) *Thumbnailer {
	if concurrency < 1 {
		concurrency = 1
	}
	return &Thumbnailer{posts: posts, avatars: avatars, images: images, renderer: renderer, avatarRenderer: avatarRenderer,
		slots: make(chan struct{}, concurrency), logger: logger}
}

// Make processes one request. It is safe to deliver twice (domain.Post.Skip);
// a post deleted meanwhile is acknowledged without work.
func (t *Thumbnailer) Make(ctx context.Context, req domain.Request) error {
	log := logging.FromContext(ctx, t.logger).With(zap.String("post_id", req.PostID), zap.Int64("version", req.Version))

	post, err := t.posts.Get(ctx, req.PostID)
	switch {
	case apperror.Is(err, apperror.NotFound):
		log.Info("post gone; request dropped")
		return nil
	case err != nil:
		return fmt.Errorf("look up post: %w", err)
	}
	if why := post.Skip(req); why != "" {
		log.Debug(why)
		return nil
	}

	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-t.slots }()

	// Stage timings go in the log line, so where upload → ready time goes
	// can be read from the logs (docs/benchmarks.md uses them).
	started := time.Now()
	original, err := t.images.Get(ctx, req.OriginalKey)
	if errors.Is(err, blob.ErrNotFound) {
		return t.fail(ctx, req, "the original upload is missing")
	}
	if err != nil {
		return fmt.Errorf("read original: %w", err)
	}
	fetched := time.Now()
	renditions, err := t.renderer.Render(ctx, original)
	if errors.Is(err, media.ErrCorrupt) || errors.Is(err, media.ErrTooManyPixels) || errors.Is(err, media.ErrUnsupportedFormat) {
		return t.fail(ctx, req, err.Error())
	}
	if err != nil {
		return fmt.Errorf("make thumbnails: %w", err)
	}
	generated := time.Now()
	width, height := 0, 0
	for _, r := range renditions {
		if err := t.images.Put(ctx, media.RenditionKey(req.PostID, r.Name), r.JPEG); err != nil {
			return fmt.Errorf("store %s: %w", r.Name, err)
		}
		if r.Name == media.SizeOriginal {
			width, height = r.Width, r.Height
		}
	}
	stored := time.Now()
	if err := t.posts.MarkThumbnailReady(ctx, req.PostID, req.Version, width, height); err != nil {
		if apperror.Is(err, apperror.NotFound) {
			return nil // deleted while we worked
		}
		return fmt.Errorf("report thumbnails ready: %w", err)
	}
	fields := []zap.Field{zap.Int("sizes", len(renditions)), zap.Int("width", width), zap.Int("height", height),
		zap.Duration("fetch", fetched.Sub(started)), zap.Duration("generate", generated.Sub(fetched)),
		zap.Duration("store", stored.Sub(generated)), zap.Duration("report", time.Since(stored))}
	if !req.Committed.IsZero() {
		// What came before fetching was relay, broker and waiting for a slot.
		fields = append(fields, zap.Duration("queued", started.Sub(req.Committed)))
	}
	log.Info("thumbnails made", fields...)
	return nil
}

// fail reports an image that can never be processed; the error it returns
// is ErrPermanent, for the port to dead-letter the request.
func (t *Thumbnailer) fail(ctx context.Context, req domain.Request, reason string) error {
	if err := t.posts.MarkFailed(ctx, req.PostID, req.Version, reason); err != nil && !apperror.Is(err, apperror.NotFound) {
		return fmt.Errorf("report failure: %w", err)
	}
	return fmt.Errorf("%s: %w", reason, ErrPermanent)
}
