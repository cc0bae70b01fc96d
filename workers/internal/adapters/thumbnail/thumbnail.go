// Package thumbnail makes the served copies of an uploaded picture: a clean
// full-size "original" and the fixed sizes, all upright JPEGs without
// private metadata (no EXIF beyond the orientation, no GPS, ICC, XMP, IPTC
// or comments).
//
// The geometry (resize filters, EXIF orientation transforms, the square
// crop) is github.com/disintegration/imaging's, the encoder is
// image/jpeg's. Two pieces are the package's own because neither does the
// job, each earned by a benchmark in docs/images.md:
//   - a JPEG upload's clean original is the upload with its segment list
//     rewritten (strip.go), not a decode and re-encode of every pixel;
//   - JPEGs decode with jpegdec, image/jpeg's decoder plus DCT scaling
//     (n/8 of the picture, n = 1…8), so a 24 MP photo becomes the 1.5 MP
//     that the largest size needs without an inverse DCT of the rest.
//
// Each size but the square crop is made from the smallest image already
// made that is at least as large, so only the largest is resized from the
// decoded picture. docs/images.md has the design and the measurements.
package thumbnail

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/disintegration/imaging"

	"pixshare/contracts/media"
	"pixshare/workers/internal/adapters/thumbnail/jpegdec"
)

// The errors of Generate, the same values as post/media's, so that either
// package's name matches. The thumbnailer dead-letters all three: retrying
// cannot help.
var (
	ErrCorrupt           = media.ErrCorrupt
	ErrUnsupportedFormat = media.ErrUnsupportedFormat
	ErrTooManyPixels     = media.ErrTooManyPixels
)

// Size is one served size. Without Crop the picture keeps its aspect ratio
// and fits in Width×Height, where 0 leaves a side free. With Crop it fills
// Width×Height exactly and the overflow is cut off around the centre.
type Size struct {
	Name          string
	Width, Height int
	Crop          bool
}

// Sizes returns the sizes Pixshare serves (the names are the API's
// size=... values). It is a function, not a variable, so no caller can
// change them for everyone.
func Sizes() []Size {
	return []Size{
		{Name: "thumb", Width: 150, Height: 150, Crop: true},
		{Name: "small", Width: 320},
		{Name: "medium", Width: 640},
		{Name: "large", Width: 1080},
	}
}

// OriginalName is the name of the full-size rendition.
const OriginalName = "original"

// DefaultMaxPixels is the pixel limit when Options.MaxPixels is 0: 100 MP
// takes a 108 MP phone photo's binned output and every DSLR. MemoryCost
// says what a picture within it needs.
const DefaultMaxPixels = 100_000_000

// DefaultQuality is the JPEG quality when Options.Quality is 0.
const DefaultQuality = 85

// Options tune Generate. The zero value is ready to use.
type Options struct {
	// Quality is the JPEG quality, 1..100; 0 means 85.
	Quality int
	// MaxPixels is checked again on the header before decoding, whatever
	// the upload path checked; 0 means DefaultMaxPixels.
	MaxPixels int64
	// Workers is how many renditions are encoded at once; 0 means
	// GOMAXPROCS. (imaging and the JPEG decoder size their own
	// goroutines by GOMAXPROCS.)
	Workers int
	// Sizes overrides Sizes() (for tests and future sizes).
	Sizes []Size
}

// Rendition is one made copy.
type Rendition struct {
	Name          string
	Width, Height int
	JPEG          []byte
}

// Generate returns the "original" rendition (the clean full-size copy)
// followed by one rendition per size, in the order of the sizes. Every
// rendition is upright under the EXIF orientation (1-8) of the upload, and
// its Width and Height are the upright ones.
//
// A JPEG upload's original is the upload itself with its metadata
// stripped losslessly (stripJPEG): same entropy-coded data, so it stays
// progressive if it was, and an orientation other than 1 is kept as a
// minimal EXIF Orientation tag rather than applied to the pixels. Any
// other format's original is re-encoded as a baseline JPEG, upright.
// The sizes are always baseline JPEGs with upright pixels and no EXIF.
//
// Nothing is ever upscaled: a size larger than the picture is made at the
// picture's own size (a crop keeps its aspect ratio and shrinks to fit: a
// 100×80 picture's 150×150 thumb is 80×80). A picture that is corrupt or
// truncated fails with ErrCorrupt. The context is checked between steps.
func Generate(ctx context.Context, original []byte, opts Options) ([]Rendition, error) {
	opts = opts.withDefaults()
	out := make([]Rendition, 1+len(opts.Sizes))
	err := GenerateEach(ctx, original, opts, func(r Rendition) {
		if r.Name == OriginalName {
			out[0] = r
			return
		}
		for i, s := range opts.Sizes {
			if s.Name == r.Name {
				out[1+i] = r
				return
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GenerateEach makes what Generate returns, but hands each rendition to
// emit as soon as it is complete instead of all of them at the end, so a
// caller can store one while the others are still being made: a JPEG's
// clean original as soon as the strip is done (beside the decode, long
// before the sizes), each size as its encoder finishes. The order is
// whichever finishes first.
//
// emit is called once per rendition, from the pipeline's goroutines but
// never two calls at once, and never after GenerateEach returned; it
// should return quickly, as the next rendition waits for it (and a panic
// in it is recovered like the pipeline's own, as ErrCorrupt). When
// GenerateEach fails, some renditions may have been emitted already: a
// JPEG whose strip succeeds and whose decode then fails has emitted its
// original. A caller that keeps what was emitted must drop it on an
// error.
func GenerateEach(ctx context.Context, original []byte, opts Options, emit func(Rendition)) error {
	// One call at a time keeps emit simple for callers; closed makes sure
	// a goroutine still running when GenerateEach returns early (a panic,
	// below) cannot hand over a rendition of a call that has failed.
	var (
		mu     sync.Mutex
		closed bool
	)
	defer func() {
		mu.Lock()
		closed = true
		mu.Unlock()
	}()
	return generate(ctx, original, opts.withDefaults(), func(r Rendition) {
		mu.Lock()
		defer mu.Unlock()
		if !closed {
			emit(r)
		}
	})
}

// generate is GenerateEach without the guard around emit.
func generate(ctx context.Context, original []byte, opts Options, emit func(Rendition)) (err error) {
	// Nothing a picture holds may take the process down: a panic here
	// (in a decoder, imaging, the encoder) fails this picture for good.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("making thumbnails: panic: %v: %w", p, ErrCorrupt)
		}
	}()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("making thumbnails: %w", err)
	}
	info, err := media.Inspect(bytes.NewReader(original), opts.MaxPixels)
	if err != nil {
		return fmt.Errorf("making thumbnails: %w", err)
	}
	orientation := readOrientation(original, info.Format)
	uw, uh := upright(info.Width, info.Height, orientation)
	targets := make([]target, len(opts.Sizes))
	for i, s := range opts.Sizes {
		// Sizes are upright; the picture is resized as stored and each
		// output turned upright after (a centred crop is the same
		// either way), so the turn costs the outputs' pixels, not the
		// decoded picture's, and runs with the encoding.
		t := plan(s, uw, uh)
		t.w, t.h = upright(t.w, t.h, orientation)
		targets[i] = t
	}
	n := 8 // the JPEG decode's block size: n/8 of the picture
	var stripped chan error
	if info.Format == media.JPEG {
		// The strip runs beside the decode, whose Huffman decoding
		// leaves the other cores mostly idle, and its result is handed
		// over at once: storing it (the largest rendition by far) then
		// overlaps the decode too. If the decode fails, the caller has
		// an original of a picture that failed (GenerateEach says so).
		stripped = make(chan error, 1)
		go func() {
			defer func() {
				if p := recover(); p != nil {
					stripped <- fmt.Errorf("stripping JPEG: panic: %v: %w", p, ErrCorrupt)
				}
			}()
			clean, err := stripJPEG(original, orientation)
			if err == nil {
				emit(Rendition{Name: OriginalName, Width: uw, Height: uh, JPEG: clean})
			}
			stripped <- err
		}()
		n = jpegBlockSize(info.Width, info.Height, targets)
	}
	m, err := decode(original, info, n)
	if stripped != nil {
		if serr := <-stripped; err == nil {
			err = serr
		}
	}
	if err != nil {
		return fmt.Errorf("making thumbnails: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("making thumbnails: %w", err)
	}
	enc := newEncoders(ctx, opts.Quality, opts.Workers, orientation, emit)
	if stripped == nil {
		enc.start(OriginalName, m)
	}
	err = renderSizes(ctx, m, targets, func(i int, img image.Image) {
		enc.start(opts.Sizes[i].Name, img)
	})
	if werr := enc.wait(); err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("making thumbnails: %w", err)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Quality == 0 {
		o.Quality = DefaultQuality
	}
	if o.MaxPixels == 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Sizes == nil {
		o.Sizes = Sizes()
	}
	return o
}

// upright returns the displayed size of a w×h stored picture.
func upright(w, h, orientation int) (int, int) {
	if orientation >= 5 {
		return h, w
	}
	return w, h
}

// jpegBlockSize returns the smallest DCT block size n (1 to 8: the decode
// is n/8 of the picture) at which a w×h JPEG still has comfortably more
// pixels, both ways, than every target (all in stored orientation): the
// decode then reconstructs n²/64 of the pixels, and quality never depends
// on an upscale.
//
// Comfortably: a block's n×n samples are its own, with no filtering
// across block edges, so imaging's Lanczos must still reduce by a margin
// to smooth them: by 1.2 or more (the 12 MP corpus photo's 1080-wide size
// is 36.6 dB against the reference from 3/8, a 1.05 reduction, and 49.6
// from 4/8; the 24 MP one's 42.3 from 2/8, 1.39), and by 2 from 1/8, where
// a block is its mean alone, a box filter that aliases fine texture
// (libvips leaves 2× after its shrink-on-load for the same reason).
func jpegBlockSize(w, h int, targets []target) int {
	var needW, needH int
	for _, t := range targets {
		needW, needH = max(needW, t.w), max(needH, t.h)
	}
	for n := 1; n < 8; n++ {
		margin := 1.2
		if n == 1 {
			margin = 2
		}
		if sw, sh := jpegdec.ScaledSize(w, h, n); float64(sw) >= margin*float64(needW) && float64(sh) >= margin*float64(needH) {
			return n
		}
	}
	return 8
}

// orient applies EXIF orientation o (the tag's eight values: flips and
// quarter turns) to m with imaging's transforms.
func orient(m image.Image, o int) image.Image {
	switch o {
	case 2:
		return imaging.FlipH(m)
	case 3:
		return imaging.Rotate180(m)
	case 4:
		return imaging.FlipV(m)
	case 5:
		return imaging.Transpose(m)
	case 6:
		return imaging.Rotate270(m)
	case 7:
		return imaging.Transverse(m)
	case 8:
		return imaging.Rotate90(m)
	}
	return m
}

// target is a size worked out for one picture: w×h pixels, filled (and
// cropped around the centre) when crop is set. plan gives them upright;
// Generate turns them to the stored orientation.
type target struct {
	w, h int
	crop bool
}

// plan works out a size for a uw×uh upright picture.
func plan(s Size, uw, uh int) target {
	if s.Crop {
		// Fill Width×Height; if the picture is smaller, shrink the
		// box (keeping its shape) until it fits instead of upscaling.
		f := min(1, float64(uw)/float64(s.Width), float64(uh)/float64(s.Height))
		return target{
			w:    max(1, int(math.Round(float64(s.Width)*f))),
			h:    max(1, int(math.Round(float64(s.Height)*f))),
			crop: true,
		}
	}
	// Fit inside the box, never beyond the picture's own size.
	f := 1.0
	if s.Width > 0 {
		f = min(f, float64(s.Width)/float64(uw))
	}
	if s.Height > 0 {
		f = min(f, float64(s.Height)/float64(uh))
	}
	return target{w: max(1, int(math.Round(float64(uw)*f))), h: max(1, int(math.Round(float64(uh)*f)))}
}

// renderSizes makes every target from the picture m and hands
// each to emit with its index. It goes from the largest target down, and
// makes each from the smallest image already made that is at least as
// large both ways (4× for a crop's window): a 1080-wide image is a much
// cheaper start for the 320-wide one than the decoded picture, and
// quality never depends on an upscale.
func renderSizes(ctx context.Context, m image.Image, targets []target, emit func(i int, img image.Image)) error {
	order := make([]int, len(targets))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return targets[b].w*targets[b].h - targets[a].w*targets[a].h
	})
	made := []image.Image{m}
	for _, i := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := targets[i]
		// A crop's window starts on a whole pixel of its source, up to
		// half a source pixel off the exact centre: from the 320-wide
		// size that is a third of an output pixel, a visible shift on
		// fine texture (29 dB against the reference on the 24 MP corpus
		// photo's thumb). So a crop is made from the smallest image
		// whose window is at least 4× the crop both ways (an eighth of
		// an output pixel at most; 38-61 dB on the corpus), else from
		// the decoded picture; imaging.Fill crops before it resizes.
		minW, minH := t.w, t.h
		if t.crop {
			minW, minH = 4*t.w, 4*t.h
		}
		src := m
		for _, c := range made[1:] {
			b, sb := c.Bounds(), src.Bounds()
			if cw, ch := window(b, t); cw >= minW && ch >= minH && b.Dx()*b.Dy() < sb.Dx()*sb.Dy() {
				src = c
			}
		}
		var img image.Image
		switch b := src.Bounds(); {
		case b.Dx() == t.w && b.Dy() == t.h:
			img = src // the picture is no larger than the size
		case t.crop:
			img = imaging.Fill(src, t.w, t.h, imaging.Center, imaging.Lanczos)
		default:
			img = imaging.Resize(src, t.w, t.h, imaging.Lanczos)
		}
		if !t.crop {
			made = append(made, img)
		}
		emit(i, img)
	}
	return nil
}

// window is the size of t's crop window in an image of bounds b: the
// largest of t's shape (all of b when t is not a crop).
func window(b image.Rectangle, t target) (int, int) {
	if !t.crop {
		return b.Dx(), b.Dy()
	}
	f := min(float64(b.Dx())/float64(t.w), float64(b.Dy())/float64(t.h))
	return int(f * float64(t.w)), int(f * float64(t.h))
}

// encoders turn renditions upright and encode them on up to n goroutines
// at once, while the caller goes on making the next size, and hand each
// to emit when it is encoded.
type encoders struct {
	ctx         context.Context
	quality     int
	orientation int
	emit        func(Rendition)
	sem         chan struct{}
	wg          sync.WaitGroup
	mu          sync.Mutex
	err         error
}

func newEncoders(ctx context.Context, quality, n, orientation int, emit func(Rendition)) *encoders {
	return &encoders{ctx: ctx, quality: quality, orientation: orientation, emit: emit, sem: make(chan struct{}, n)}
}

// start turns img (in stored orientation) upright and encodes it as the
// rendition name, on another goroutine, then emits it.
func (e *encoders) start(name string, img image.Image) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.sem <- struct{}{}
		defer func() { <-e.sem }()
		// This goroutine is the pipeline's own: a panic must become an
		// error, or it would end the process.
		defer func() {
			if p := recover(); p != nil {
				e.fail(fmt.Errorf("encoding %s: panic: %v: %w", name, p, ErrCorrupt))
			}
		}()
		if err := e.ctx.Err(); err != nil {
			e.fail(err)
			return
		}
		img := orient(img, e.orientation)
		data, err := encode(img, e.quality)
		if err != nil {
			e.fail(fmt.Errorf("encoding %s: %w", name, err))
			return
		}
		b := img.Bounds()
		e.emit(Rendition{Name: name, Width: b.Dx(), Height: b.Dy(), JPEG: data})
	}()
}

func (e *encoders) fail(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = err
	}
}

// wait returns the first error once every encoder has finished.
func (e *encoders) wait() error {
	e.wg.Wait()
	return e.err
}

// encode writes m as a baseline JPEG with image/jpeg. imaging's results
// are opaque NRGBA, whose bytes are those of an RGBA (straight and
// premultiplied alpha agree at 255): as an RGBA they take the encoder's
// fast path instead of a call to At per pixel.
func encode(m image.Image, quality int) ([]byte, error) {
	if n, ok := m.(*image.NRGBA); ok {
		m = &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
	}
	var buf bytes.Buffer
	b := m.Bounds()
	buf.Grow(b.Dx() * b.Dy() / 4) // about 2 bits a pixel at quality 85
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
