// Package thumbnail makes the served copies of an uploaded picture: a clean
// full-size "original" and the fixed sizes, all upright baseline JPEGs
// without any metadata (no EXIF, GPS, ICC, XMP or comments).
//
// It is built for speed on big camera photos: the original is decoded once
// into Y'CbCr planes and every step works on those planes (no RGBA copy of
// a JPEG); each size is derived from the smallest already-made image that
// is still at least as large; a big reduction first averages integer k×k
// boxes down to about twice the target and only then applies a separable
// Lanczos-3 filter; every pass and the JPEG encoder run on all cores. At
// most the decoded original plus one intermediate (the box-reduced copy,
// a quarter of the original or less) are in memory at once; EXIF rotation
// is applied by the encoder while it reads, never as a rotated copy.
package thumbnail

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"math"
	"runtime"
	"slices"

	"pixshare/contracts/media"
	"pixshare/workers/internal/adapters/thumbnail/jpegenc"
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
// takes a 108 MP phone photo's binned output and every DSLR, while keeping
// the decoded planes (1.5 bytes a pixel) near 150 MB.
const DefaultMaxPixels = 100_000_000

// Options tune Generate. The zero value is ready to use.
type Options struct {
	// Quality is the JPEG quality, 1..100; 0 means 85.
	Quality int
	// MaxPixels is checked again on the header before decoding, whatever
	// the upload path checked; 0 means DefaultMaxPixels.
	MaxPixels int64
	// Workers is how many goroutines share each step; 0 means GOMAXPROCS.
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

// Generate decodes original once, applies its EXIF orientation (1-8) so
// every output is upright, and returns the "original" rendition (a clean
// re-encoded copy at full resolution) followed by one rendition per size,
// in the order of the sizes. Nothing is ever upscaled: a size larger than
// the picture is made at the picture's own size (a crop keeps its aspect
// ratio and shrinks to fit: a 100×80 picture's 150×150 thumb is 80×80).
// A picture that is corrupt or truncated fails with ErrCorrupt. The
// context is checked between steps.
func Generate(ctx context.Context, original []byte, opts Options) ([]Rendition, error) {
	if opts.Quality == 0 {
		opts.Quality = jpegenc.DefaultQuality
	}
	if opts.MaxPixels == 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Sizes == nil {
		opts.Sizes = Sizes()
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("making thumbnails: %w", err)
	}
	info, err := media.Inspect(bytes.NewReader(original), opts.MaxPixels)
	if err != nil {
		return nil, fmt.Errorf("making thumbnails: %w", err)
	}
	orientation := readOrientation(original, info.Format)
	m, err := decode(original, info, opts.Workers)
	if err != nil {
		return nil, fmt.Errorf("making thumbnails: %w", err)
	}
	enc := jpegenc.Options{Quality: opts.Quality, Orientation: orientation, Workers: opts.Workers}
	out := make([]Rendition, 1+len(opts.Sizes))
	err = renderSizes(ctx, m, orientation, opts.Sizes, opts.Workers, func(i int, img *image.YCbCr) error {
		data, err := jpegenc.Encode(ctx, img, enc)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", opts.Sizes[i].Name, err)
		}
		out[1+i] = rendition(opts.Sizes[i].Name, img, orientation, data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("making thumbnails: %w", err)
	}
	// The sizes' planes are garbage now: only the original is in memory.
	data, err := jpegenc.Encode(ctx, m, enc)
	if err != nil {
		return nil, fmt.Errorf("making thumbnails: encoding %s: %w", OriginalName, err)
	}
	out[0] = rendition(OriginalName, m, orientation, data)
	return out, nil
}

// renderSizes makes every size from the decoded original m (in stored
// orientation) and hands each to emit with its index in sizes. It goes
// from the largest size down, so each can start from a larger one already
// made.
func renderSizes(ctx context.Context, m *image.YCbCr, orientation int, sizes []Size, workers int,
	emit func(i int, img *image.YCbCr) error) error {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	targets := make([]target, len(sizes))
	order := make([]int, len(sizes))
	for i, s := range sizes {
		targets[i] = plan(s, w, h, orientation)
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return targets[b].w*targets[b].h - targets[a].w*targets[a].h
	})
	levels := []level{{m, float64(w), float64(h)}}
	for _, i := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := targets[i]
		img := render(levels, t, workers)
		if !t.crop {
			levels = append(levels, level{img, float64(t.w), float64(t.h)})
		}
		if err := emit(i, img); err != nil {
			return err
		}
	}
	return nil
}

func rendition(name string, m *image.YCbCr, orientation int, data []byte) Rendition {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	if orientation >= 5 {
		w, h = h, w
	}
	return Rendition{Name: name, Width: w, Height: h, JPEG: data}
}

// target is a size worked out in the stored (not yet rotated) orientation:
// the output is w×h, made from the window of the picture that starts at
// picture pixel (cropX, cropY) and is cropW×cropH pixels.
type target struct {
	w, h                       int
	crop                       bool
	cropX, cropY, cropW, cropH float64
}

// plan works out a size for a sw×sh stored picture with the given EXIF
// orientation. Sizes are given upright, so orientations 5-8 swap them.
func plan(s Size, sw, sh, orientation int) target {
	uw, uh := sw, sh
	if orientation >= 5 {
		uw, uh = sh, sw
	}
	var w, h int
	if s.Crop {
		// Fill Width×Height; if the picture is smaller, shrink the
		// box (keeping its shape) until it fits instead of upscaling.
		f := min(1, float64(uw)/float64(s.Width), float64(uh)/float64(s.Height))
		w = max(1, int(math.Round(float64(s.Width)*f)))
		h = max(1, int(math.Round(float64(s.Height)*f)))
	} else {
		// Fit inside the box, never beyond the picture's own size.
		f := 1.0
		if s.Width > 0 {
			f = min(f, float64(s.Width)/float64(uw))
		}
		if s.Height > 0 {
			f = min(f, float64(s.Height)/float64(uh))
		}
		w = max(1, int(math.Round(float64(uw)*f)))
		h = max(1, int(math.Round(float64(uh)*f)))
	}
	if orientation >= 5 {
		w, h = h, w
	}
	t := target{w: w, h: h, crop: s.Crop, cropW: float64(sw), cropH: float64(sh)}
	if s.Crop {
		// The largest centred window with the output's shape, on whole
		// pixels: a window starting between two pixels would blur a crop
		// made at scale 1 for nothing.
		cw := min(sw, int(math.Round(float64(sh)*float64(w)/float64(h))))
		ch := min(sh, int(math.Round(float64(cw)*float64(h)/float64(w))))
		t.cropW, t.cropH = float64(cw), float64(ch)
		t.cropX, t.cropY = float64((sw-cw)/2), float64((sh-ch)/2)
	}
	return t
}

// level is an image already made, covering the whole picture: extW×extH
// of its pixels span the picture (a box-reduced level's last column may be
// partial, so its extent is fractional).
type level struct {
	img        *image.YCbCr
	extW, extH float64
}

// render makes t from the smallest level that still has at least one
// pixel per output pixel (so quality never depends on an upscale).
func render(levels []level, t target, workers int) *image.YCbCr {
	src := levels[0]
	full := levels[0].extW // picture pixels per level pixel = full / extW
	for _, l := range levels[1:] {
		ratio := l.extW / full
		if t.cropW*ratio >= float64(t.w) && t.cropH*ratio >= float64(t.h) && l.extW < src.extW {
			src = l
		}
	}
	ratio := src.extW / full
	scaleX := t.cropW * ratio / float64(t.w)
	scaleY := t.cropH * ratio / float64(t.h)
	offX, offY := t.cropX*ratio, t.cropY*ratio

	in := planes(src.img)
	// Lose the integer part of a big reduction with a box average, down
	// to about twice the target, like libvips' shrink before its reduce.
	if k := int(min(scaleX, scaleY) / 2); k >= 2 {
		for i := range in {
			p := newPlane((in[i].w+k-1)/k, (in[i].h+k-1)/k)
			boxShrink(p, in[i], k, workers)
			in[i] = p
		}
		scaleX, scaleY, offX, offY = scaleX/float64(k), scaleY/float64(k), offX/float64(k), offY/float64(k)
	}
	cw, ch := (t.w+1)/2, (t.h+1)/2
	out := [3]plane{newPlane(t.w, t.h), newPlane(cw, ch), newPlane(cw, ch)}
	resample(out[0], in[0], newKernel(in[0].w, t.w, scaleX, offX, lanczos3), newKernel(in[0].h, t.h, scaleY, offY, lanczos3), workers)
	// Chroma samples span two luma samples on both sides of the
	// resample, so the scale is the same and the offset halves.
	kx := newKernel(in[1].w, cw, scaleX, offX/2, lanczos3)
	ky := newKernel(in[1].h, ch, scaleY, offY/2, lanczos3)
	resample(out[1], in[1], kx, ky, workers)
	resample(out[2], in[2], kx, ky, workers)
	return newYCbCr420(out)
}
