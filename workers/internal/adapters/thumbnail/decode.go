package thumbnail

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/png"

	"golang.org/x/image/webp"

	"pixshare/contracts/media"
	"pixshare/workers/internal/adapters/thumbnail/jpegdec"
)

// decode returns the picture, in stored orientation, n/8 of its size
// (n is 8 except for JPEG, where it is DecodeScaled's block size), opaque: any
// transparency is composited onto white. What comes out is an
// *image.YCbCr (JPEG, lossy WebP), *image.Gray (grey JPEG or PNG) or an
// opaque *image.NRGBA; imaging takes all three, and the JPEG encoder has
// fast paths for them (see encode).
func decode(data []byte, info media.Info, n int) (m image.Image, err error) {
	// The decoders read hostile bytes. Should one of them panic, the
	// upload is corrupt: the worker must dead-letter it, not crash and
	// have the message redelivered forever.
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("decoding %s: panic: %v: %w", info.Format, p, ErrCorrupt)
		}
	}()
	var src image.Image
	r := bytes.NewReader(data)
	switch info.Format {
	case media.JPEG:
		src, err = jpegdec.DecodeScaled(r, n)
	case media.PNG:
		src, err = png.Decode(r)
	case media.GIF:
		// Decode stops after the first frame: later frames cost nothing.
		src, err = gif.Decode(r)
	case media.WebP:
		src, err = webp.Decode(r)
	default:
		return nil, fmt.Errorf("decoding %q: %w", info.Format, ErrUnsupportedFormat)
	}
	if err != nil {
		if errors.As(err, new(jpegdec.UnsupportedError)) || errors.As(err, new(png.UnsupportedError)) {
			return nil, fmt.Errorf("decoding %s: %v: %w", info.Format, err, ErrUnsupportedFormat)
		}
		return nil, fmt.Errorf("decoding %s: %v: %w", info.Format, err, ErrCorrupt)
	}
	canvas := image.Rect(0, 0, info.Width, info.Height)
	if info.Format == media.JPEG {
		canvas.Max.X, canvas.Max.Y = jpegdec.ScaledSize(info.Width, info.Height, n)
	}
	if !src.Bounds().In(canvas) || info.Format != media.GIF && src.Bounds() != canvas {
		return nil, fmt.Errorf("decoding %s: pixels %v do not match the header's %v: %w",
			info.Format, src.Bounds(), canvas, ErrCorrupt)
	}
	switch s := src.(type) {
	case *image.YCbCr:
		return s, nil
	case *image.Gray:
		return s, nil
	}
	return onWhite(src, canvas), nil
}

// onWhite draws src over a white canvas (pixels of canvas that src does
// not cover, as around a GIF frame smaller than its screen, stay white).
// draw.Draw has fast paths for the types the decoders return (RGBA, NRGBA,
// Paletted, 16-bit ones) and is what the standard library offers; imaging
// has no compositing onto a colour short of Overlay, which is draw.Over in
// float64 and slower.
func onWhite(src image.Image, canvas image.Rectangle) *image.NRGBA {
	dst := image.NewRGBA(canvas)
	op := draw.Over
	if o, ok := src.(interface{ Opaque() bool }); ok && o.Opaque() {
		op = draw.Src // same result on white, and more fast paths
	}
	if op == draw.Over || src.Bounds() != canvas {
		draw.Draw(dst, canvas, image.NewUniform(color.White), image.Point{}, draw.Src)
	}
	draw.Draw(dst, src.Bounds(), src, src.Bounds().Min, op)
	// Every pixel is opaque, where premultiplied and straight alpha are
	// the same bytes: the RGBA is an NRGBA, the type imaging reads fastest.
	return &image.NRGBA{Pix: dst.Pix, Stride: dst.Stride, Rect: dst.Rect}
}
