// Package thumbnailer is the thumbnailer app: it consumes thumbnail
// requests, makes every size of a post's image and reports to the post
// service.
package thumbnailer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"pixshare/platform/apperror"
	"pixshare/platform/blob"
	"pixshare/platform/events"
	"pixshare/platform/logging"
	postevents "pixshare/post/events"
	postv1 "pixshare/proto/post/v1"
	"pixshare/workers/internal/thumbnail"
)

// Posts is the part of post.v1 the worker calls.
type Posts interface {
	GetPost(ctx context.Context, id string) (*postv1.Post, error)
	MarkThumbnailReady(ctx context.Context, id string, version int64, width, height int) error
	MarkFailed(ctx context.Context, id string, version int64, reason string) error
}

// Worker handles thumbnail requests.
type Worker struct {
	posts  Posts
	images blob.Store
	opts   thumbnail.Options
	// slots bounds the images in flight (and so the memory used).
	slots  chan struct{}
	logger *zap.Logger
}

// NewWorker returns a worker processing at most concurrency images at once.
func NewWorker(posts Posts, images blob.Store, opts thumbnail.Options, concurrency int, logger *zap.Logger) *Worker {
	if concurrency < 1 {
		concurrency = 1
	}
	return &Worker{posts: posts, images: images, opts: opts, slots: make(chan struct{}, concurrency), logger: logger}
}

// Handle processes one request. It is safe to deliver twice: a post that
// already has its thumbnails, was deleted, or moved past the request's
// version is acknowledged without work.
func (w *Worker) Handle(ctx context.Context, ev events.Event) error {
	req, err := postevents.ParseThumbnailRequested(ev.Data)
	if err != nil {
		return err
	}
	log := logging.FromContext(ctx, w.logger).With(zap.String("post_id", req.PostID), zap.Int64("version", req.Version))

	post, err := w.posts.GetPost(ctx, req.PostID)
	switch {
	case apperror.Is(err, apperror.NotFound):
		log.Info("post gone; request dropped")
		return nil
	case err != nil:
		return fmt.Errorf("look up post: %w", err)
	case post.GetThumbnailReady():
		log.Debug("thumbnails already made; duplicate request")
		return nil
	case post.GetVersion() > req.Version:
		// A newer request for the same image exists (the reconciler sends
		// one with the current version); that one does the work.
		log.Debug("request for an older version; skipped")
		return nil
	}

	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.slots }()

	// Stage timings go in the log line, so where upload → ready time goes
	// can be read from the logs (docs/benchmarks.md uses them).
	started := time.Now()
	original, err := w.images.Get(ctx, req.OriginalKey)
	if errors.Is(err, blob.ErrNotFound) {
		return w.fail(ctx, req, "the original upload is missing")
	}
	if err != nil {
		return fmt.Errorf("read original: %w", err)
	}
	fetched := time.Now()
	renditions, err := thumbnail.Generate(ctx, original, w.opts)
	if errors.Is(err, thumbnail.ErrCorrupt) || errors.Is(err, thumbnail.ErrTooManyPixels) {
		return w.fail(ctx, req, err.Error())
	}
	if err != nil {
		return fmt.Errorf("make thumbnails: %w", err)
	}
	generated := time.Now()
	width, height := 0, 0
	for _, r := range renditions {
		if err := w.images.Put(ctx, postevents.RenditionKey(req.PostID, r.Name), r.JPEG); err != nil {
			return fmt.Errorf("store %s: %w", r.Name, err)
		}
		if r.Name == postevents.SizeOriginal {
			width, height = r.Width, r.Height
		}
	}
	stored := time.Now()
	if err := w.posts.MarkThumbnailReady(ctx, req.PostID, req.Version, width, height); err != nil {
		if apperror.Is(err, apperror.NotFound) {
			return nil // deleted while we worked
		}
		return fmt.Errorf("report thumbnails ready: %w", err)
	}
	fields := []zap.Field{zap.Int("sizes", len(renditions)), zap.Int("width", width), zap.Int("height", height),
		zap.Duration("fetch", fetched.Sub(started)), zap.Duration("generate", generated.Sub(fetched)),
		zap.Duration("store", stored.Sub(generated)), zap.Duration("report", time.Since(stored))}
	// The event id is the outbox row's UUIDv7, which carries the time the
	// upload committed: what came before fetching was relay, broker and
	// waiting for a slot.
	if id, err := uuid.Parse(ev.ID); err == nil && id.Version() == 7 {
		sec, nsec := id.Time().UnixTime()
		fields = append(fields, zap.Duration("queued", started.Sub(time.Unix(sec, nsec))))
	}
	log.Info("thumbnails made", fields...)
	return nil
}

// fail reports an image that can never be processed and sends the request
// to the dead-letter topic.
func (w *Worker) fail(ctx context.Context, req postevents.ThumbnailRequested, reason string) error {
	if err := w.posts.MarkFailed(ctx, req.PostID, req.Version, reason); err != nil && !apperror.Is(err, apperror.NotFound) {
		return fmt.Errorf("report failure: %w", err)
	}
	return events.Poison(errors.New(reason))
}
