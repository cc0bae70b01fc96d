// Package app is the thumbnailer's use case: make every size of a post's
// image and report to the post service.
package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

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
	// MarkThumbnailReady reports the original's upright size and the
	// bytes stored of each rendition, by size name.
	MarkThumbnailReady(ctx context.Context, id string, version int64, width, height int, renditionBytes map[string]int64) error
	MarkFailed(ctx context.Context, id string, version int64, reason string) error
}

// Images reads originals and stores renditions (blob.ErrNotFound when a
// key is missing). Delete removes the renditions of a picture that turned
// out to be unprocessable; deleting a missing key is not an error.
type Images interface {
	// Get reads the blob at key; sizeHint is its length when the caller
	// knows it (0 when not), so that it is read into a buffer of its size.
	Get(ctx context.Context, key string, sizeHint int64) ([]byte, error)
	Put(ctx context.Context, key string, data []byte) error
	Delete(ctx context.Context, key string) error
}

// Renderer makes the renditions of an original: the clean "original" and
// every size. Pictures that can never be made fail with media.ErrCorrupt,
// ErrTooManyPixels or ErrUnsupportedFormat.
type Renderer interface {
	// Render hands each rendition to emit as soon as it is complete, so
	// that storing it overlaps making the rest; when it returns nil,
	// every rendition was emitted, once. emit may be called from other
	// goroutines than Render's, several at once, but never after Render
	// returned; it should return quickly. When Render fails, some
	// renditions may have been emitted already: a JPEG's clean original
	// is made before its decode can fail.
	Render(ctx context.Context, original []byte, emit func(domain.Rendition)) error
	// Cost is, from the headers alone, an upper bound of the bytes
	// rendering original allocates (it fails like Render on a picture
	// that can never be made).
	Cost(original []byte) (int64, error)
}

// Attempts records, durably, the attempts of each piece of work that were
// started and did not come back: Begin counts one more before the work
// starts (so a crash mid-work stays counted), Returned takes it back when
// the work returned an error to retry, Done forgets the work once it ended
// for good.
type Attempts interface {
	Begin(ctx context.Context, key string) (int, error)
	Returned(ctx context.Context, key string) error
	Done(ctx context.Context, key string) error
}

// ErrPermanent marks a request that no retry can help: the post was
// reported failed, and the message belongs on the dead-letter topic.
var ErrPermanent = errors.New("cannot be processed")

// Options are the thumbnailer's limits.
type Options struct {
	// MemoryBudget is the bytes that the pictures being decoded and
	// resized may take together (Renderer.Cost plus the original): a
	// picture waits until its cost fits, and one whose cost exceeds the
	// whole budget fails for good.
	MemoryBudget int64
	// FetchReserve is the budget taken before an original is read (its
	// cost is unknown until its headers are): the largest upload.
	FetchReserve int64
	// MaxAttempts is how many attempts of one piece of work may crash or
	// kill the thumbnailer before it is given up: the post is marked
	// failed and the message dead-lettered.
	MaxAttempts int
}

// Thumbnailer handles thumbnail requests.
type Thumbnailer struct {
	posts          Posts
	avatars        Avatars
	images         Images
	renderer       Renderer
	avatarRenderer AvatarRenderer
	attempts       Attempts
	opts           Options
	// memory admits pictures by their cost in bytes, not by count: one
	// 16-bit PNG may need as much as a hundred photos.
	memory *semaphore.Weighted
	logger *zap.Logger
}

// NewThumbnailer returns a thumbnailer within opts.
func NewThumbnailer(posts Posts, avatars Avatars, images Images, renderer Renderer, avatarRenderer AvatarRenderer,
	attempts Attempts, opts Options, logger *zap.Logger) *Thumbnailer {
	opts.FetchReserve = min(max(opts.FetchReserve, 1), opts.MemoryBudget)
	opts.MaxAttempts = max(opts.MaxAttempts, 1)
	return &Thumbnailer{posts: posts, avatars: avatars, images: images, renderer: renderer, avatarRenderer: avatarRenderer,
		attempts: attempts, opts: opts, memory: semaphore.NewWeighted(opts.MemoryBudget), logger: logger}
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
	// The work, not the message, is counted: the post service's reconciler
	// sends a new message for a post stuck processing, and those must add
	// up too.
	key := fmt.Sprintf("post:%s:%d", req.PostID, req.Version)
	giveUp := func(reason string) error {
		// The attempts that crashed may have stored renditions already
		// (each is stored as soon as it is made, the clean original
		// while the picture is still decoding): a post failed for good
		// keeps none.
		if err := t.discard(ctx, media.Sizes(), renditionKey(req.PostID)); err != nil {
			return err
		}
		return t.fail(ctx, req, reason)
	}
	return t.attempt(ctx, log, key, giveUp, func() error {
		return t.make(ctx, log, req)
	})
}

func (t *Thumbnailer) make(ctx context.Context, log *zap.Logger, req domain.Request) error {
	// Stage timings go in the log line, so where upload → ready time goes
	// can be read from the logs (docs/benchmarks.md uses them). Storing
	// overlaps generating, so generate is fetched → the last rendition
	// made (Render returned) and store only what is left of storing
	// after that.
	started := time.Now()
	original, release, err := t.admit(ctx, req.OriginalKey, req.OriginalBytes)
	var tooBig *tooBigError
	switch {
	case errors.Is(err, blob.ErrNotFound):
		return t.fail(ctx, req, "the original upload is missing")
	case errors.As(err, &tooBig):
		return t.fail(ctx, req, tooBig.Error())
	case unprocessable(err):
		return t.fail(ctx, req, err.Error())
	case err != nil:
		return fmt.Errorf("read original: %w", err)
	}
	// Deferred first, so run last: the budget is given back only after
	// the stores below finished, as until then they hold the bytes.
	defer release()
	fetched := time.Now()
	renderCtx, stopRender := context.WithCancel(ctx)
	defer stopRender()
	s := &storer{ctx: ctx, images: t.images, key: renditionKey(req.PostID), stop: stopRender}
	// Every way out waits for the stores, a panic in Render too.
	defer func() { _, _ = s.wait() }()
	err = t.renderer.Render(renderCtx, original, s.put)
	generated := time.Now()
	renditions, serr := s.wait()
	switch {
	case unprocessable(err):
		// Nothing of a picture that can never be made may stay behind:
		// what was handed over of it (a JPEG's clean original, made
		// before its decode failed), stored or not (a failed write may
		// still have left a blob), is deleted, now that no store is
		// running, and before the post is reported failed, so that a
		// failed delete is retried.
		names := make([]string, len(renditions))
		for i, r := range renditions {
			names[i] = r.Name
		}
		if err := t.discard(ctx, names, s.key); err != nil {
			return err
		}
		return t.fail(ctx, req, err.Error())
	case serr != nil:
		// Also the cause when a store cancelled Render. Nothing was
		// reported: the retry writes the same bytes again.
		return serr
	case err != nil:
		return fmt.Errorf("make thumbnails: %w", err)
	}
	stored := time.Now()
	width, height := 0, 0
	sizes := make(map[string]int64, len(renditions))
	for _, r := range renditions {
		sizes[r.Name] = int64(len(r.JPEG))
		if r.Name == media.SizeOriginal {
			width, height = r.Width, r.Height
		}
	}
	if err := t.posts.MarkThumbnailReady(ctx, req.PostID, req.Version, width, height, sizes); err != nil {
		if apperror.Is(err, apperror.NotFound) {
			return nil // deleted while we worked
		}
		return fmt.Errorf("report thumbnails ready: %w", err)
	}
	fields := []zap.Field{zap.Int("sizes", len(renditions)), zap.Int("width", width), zap.Int("height", height),
		zap.Duration("fetch", fetched.Sub(started)), zap.Duration("generate", generated.Sub(fetched)),
		zap.Duration("store", stored.Sub(generated)), zap.Duration("report", time.Since(stored))}
	if !req.Committed.IsZero() {
		// What came before fetching was relay, broker and waiting for the
		// memory budget.
		fields = append(fields, zap.Duration("queued", started.Sub(req.Committed)))
	}
	log.Info("thumbnails made", fields...)
	return nil
}

// storer stores each rendition under key(name) as soon as Render hands it
// over, while the rest are still being made: a JPEG's clean original, by
// far the largest write (base64 through the sidecar), exists long before
// the sizes do. Each is its own blob, so the writes overlap each other
// too.
//
// A failed store stops the rendering (nothing can be reported after it),
// but not the other stores: a write cancelled on this side may still
// land in the storage afterwards, so once wait returned nothing at all is
// being written, and what was stored can be deleted for good.
type storer struct {
	ctx    context.Context
	images Images
	key    func(name string) string
	stop   context.CancelFunc // cancels Render
	group  errgroup.Group
	mu     sync.Mutex
	sent   []domain.Rendition
}

// put starts storing r; it is Render's emit, so it may run on several
// goroutines at once.
func (s *storer) put(r domain.Rendition) {
	s.mu.Lock()
	s.sent = append(s.sent, r)
	s.mu.Unlock()
	s.group.Go(func() error {
		if err := s.images.Put(s.ctx, s.key(r.Name), r.JPEG); err != nil {
			s.stop()
			return fmt.Errorf("store %s: %w", r.Name, err)
		}
		return nil
	})
}

// wait returns, once every store started has finished, the renditions
// handed over and the first store error. Call it after Render returned,
// as no rendition comes after that.
func (s *storer) wait() ([]domain.Rendition, error) {
	err := s.group.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent, err
}

// discard deletes the renditions names (under key(name)) of a picture
// that failed for good. Deleting one that was never stored is not an
// error, so callers name every one that may have been.
func (t *Thumbnailer) discard(ctx context.Context, names []string, key func(name string) string) error {
	for _, name := range names {
		if err := t.images.Delete(ctx, key(name)); err != nil {
			return fmt.Errorf("delete %s of a picture that failed: %w", name, err)
		}
	}
	return nil
}

// renditionKey returns where the renditions of post id are stored.
func renditionKey(id string) func(name string) string {
	return func(name string) string { return media.RenditionKey(id, name) }
}

// store writes renditions that are all made (an avatar's) under
// key(name), all at once: each is its own blob, and the waits on the
// sidecar and the storage overlap. Nothing is reported before every one
// is stored, so a failure retries the whole request, which writes the
// same bytes again.
func (t *Thumbnailer) store(ctx context.Context, renditions []domain.Rendition, key func(name string) string) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, r := range renditions {
		g.Go(func() error {
			if err := t.images.Put(gctx, key(r.Name), r.JPEG); err != nil {
				return fmt.Errorf("store %s: %w", r.Name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// unprocessable tells the errors of a picture that can never be made.
func unprocessable(err error) bool {
	return errors.Is(err, media.ErrCorrupt) || errors.Is(err, media.ErrTooManyPixels) || errors.Is(err, media.ErrUnsupportedFormat)
}

// attempt runs work as one counted attempt of key. The attempt is recorded
// before the work starts; an attempt that returns (made, failed for good,
// or an error to retry) is taken back, so the count is of the attempts
// that crashed: a panic here, or the process killed mid-work (out of
// memory, a panic on a goroutine nobody can recover, such as a library's
// own workers). Past MaxAttempts, giveUp reports the work failed instead
// of running it.
func (t *Thumbnailer) attempt(ctx context.Context, log *zap.Logger, key string, giveUp func(reason string) error, work func() error) (err error) {
	n, err := t.attempts.Begin(ctx, key)
	if err != nil {
		return err
	}
	// Bookkeeping after the work must happen even when the delivery's
	// context ended.
	bg := context.WithoutCancel(ctx)
	if n > t.opts.MaxAttempts {
		log.Error("work crashed the thumbnailer too often; giving up", zap.String("work", key), zap.Int("attempts", n-1))
		err = giveUp(fmt.Sprintf("processing the picture crashed the thumbnailer %d times", n-1))
		t.settle(bg, log, key, err)
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			// A crash: the attempt stays counted, and the message is
			// retried until MaxAttempts.
			log.Error("panic making thumbnails", zap.String("work", key), zap.Any("panic", p), zap.Stack("stack"))
			err = fmt.Errorf("making thumbnails: panic: %v", p)
			return
		}
		t.settle(bg, log, key, err)
	}()
	return work()
}

// settle records how an attempt that came back ended.
func (t *Thumbnailer) settle(ctx context.Context, log *zap.Logger, key string, err error) {
	var serr error
	if err == nil || errors.Is(err, ErrPermanent) {
		serr = t.attempts.Done(ctx, key)
	} else {
		serr = t.attempts.Returned(ctx, key)
	}
	if serr != nil {
		// The count is then one too high: at worst a picture that fails
		// transiently is given up one attempt early.
		log.Warn("could not record the end of an attempt", zap.String("work", key), zap.Error(serr))
	}
}

// tooBigError is a picture whose cost exceeds the whole memory budget.
type tooBigError struct{ cost, budget int64 }

func (e *tooBigError) Error() string {
	return fmt.Sprintf("the picture needs about %d MiB to process, more than the thumbnailer's memory budget of %d MiB",
		e.cost>>20, e.budget>>20)
}

// admit reads the original at key (sizeHint long, when known) once its
// cost fits in the memory budget, and returns it with the function that
// gives its budget back.
//
// The cost is known only from the headers, so the largest upload's worth
// (FetchReserve) is taken first, for reading. If the cost then fits in
// what is held, or in what is free at once, the picture is admitted;
// otherwise everything is given back, the bytes dropped, and the whole
// cost waited for before reading again: a request never waits while
// holding budget (which could deadlock two of them) nor while holding an
// unbudgeted picture. The semaphore is FIFO, so a large picture is not
// starved by small ones.
func (t *Thumbnailer) admit(ctx context.Context, key string, sizeHint int64) ([]byte, func(), error) {
	held := t.opts.FetchReserve
	if err := t.memory.Acquire(ctx, held); err != nil {
		return nil, nil, fmt.Errorf("wait for memory: %w", err)
	}
	for {
		original, err := t.images.Get(ctx, key, sizeHint)
		if err != nil {
			t.memory.Release(held)
			return nil, nil, err
		}
		cost, err := t.renderer.Cost(original)
		if err != nil {
			t.memory.Release(held)
			return nil, nil, err
		}
		need := cost + int64(len(original))
		switch {
		case need > t.opts.MemoryBudget:
			t.memory.Release(held)
			return nil, nil, &tooBigError{cost: need, budget: t.opts.MemoryBudget}
		case need <= held:
			t.memory.Release(held - need)
			return original, func() { t.memory.Release(need) }, nil
		case t.memory.TryAcquire(need - held):
			return original, func() { t.memory.Release(need) }, nil
		}
		// original is not used again: the collector may take it while
		// this request waits.
		t.memory.Release(held)
		held = 0
		if err := t.memory.Acquire(ctx, need); err != nil {
			return nil, nil, fmt.Errorf("wait for memory: %w", err)
		}
		held = need
	}
}

// fail reports an image that can never be processed; the error it returns
// is ErrPermanent, for the port to dead-letter the request.
func (t *Thumbnailer) fail(ctx context.Context, req domain.Request, reason string) error {
	if err := t.posts.MarkFailed(ctx, req.PostID, req.Version, reason); err != nil && !apperror.Is(err, apperror.NotFound) {
		return fmt.Errorf("report failure: %w", err)
	}
	return fmt.Errorf("%s: %w", reason, ErrPermanent)
}
