package thumbnail

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/png"

	"golang.org/x/image/webp"

	"pixshare/contracts/media"
	"pixshare/workers/internal/adapters/thumbnail/jpegdec"
)

// decode returns the picture as 4:2:0 planes in stored orientation with
// any transparency composited onto white: the one representation every
// later step works on. A JPEG or lossy WebP is already that (the common
// case costs no conversion); everything else is converted once here.
func decode(data []byte, info media.Info, workers int) (m *image.YCbCr, err error) {
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
		// image/jpeg's decoder with the inverse DCT on other cores.
		src, err = jpegdec.Decode(r)
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
	if !src.Bounds().In(canvas) || info.Format != media.GIF && src.Bounds() != canvas {
		return nil, fmt.Errorf("decoding %s: pixels %v do not match the header's %v: %w",
			info.Format, src.Bounds(), canvas, ErrCorrupt)
	}
	switch s := src.(type) {
	case *image.YCbCr:
		return ycbcrTo420(s, workers), nil
	case *image.NYCbCrA:
		compositeYCbCrA(s)
		return ycbcrTo420(&s.YCbCr, workers), nil
	case *image.Gray:
		return grayTo420(s), nil
	}
	return rgbTo420(src, canvas, workers), nil
}

// ycbcrTo420 keeps the luma plane and brings the chroma planes to 4:2:0.
func ycbcrTo420(s *image.YCbCr, workers int) *image.YCbCr {
	if s.SubsampleRatio == image.YCbCrSubsampleRatio420 {
		return s
	}
	w, h := s.Rect.Dx(), s.Rect.Dy()
	// How many luma samples one stored chroma sample spans, per axis.
	fx, fy := 1, 1
	switch s.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		fx = 2
	case image.YCbCrSubsampleRatio440:
		fy = 2
	case image.YCbCrSubsampleRatio411:
		fx = 4
	case image.YCbCrSubsampleRatio410:
		fx, fy = 4, 2
	}
	scw, sch := (w+fx-1)/fx, (h+fy-1)/fy
	cw, ch := (w+1)/2, (h+1)/2
	// Output chroma sample j is centred on luma 2j+1, which is source
	// chroma coordinate (j+0.5)·2/f: a resample by 2/f with no offset.
	kx := newKernel(scw, cw, 2/float64(fx), 0, triangle)
	ky := newKernel(sch, ch, 2/float64(fy), 0, triangle)
	out := [3]plane{{s.Y, w, h, s.YStride}, newPlane(cw, ch), newPlane(cw, ch)}
	resample(out[1], plane{s.Cb, scw, sch, s.CStride}, kx, ky, workers)
	resample(out[2], plane{s.Cr, scw, sch, s.CStride}, kx, ky, workers)
	return newYCbCr420(out)
}

// compositeYCbCrA puts a lossy WebP with alpha onto white, in place. Y'CbCr
// is an affine function of R'G'B', so blending towards white (255, 128,
// 128) in Y'CbCr is the same as blending in RGB; a chroma sample blends
// with the mean alpha of the luma samples it covers.
func compositeYCbCrA(s *image.NYCbCrA) {
	w, h := s.Rect.Dx(), s.Rect.Dy()
	for y := range h {
		for x := range w {
			a := uint32(s.A[y*s.AStride+x])
			i := y*s.YStride + x
			s.Y[i] = uint8((uint32(s.Y[i])*a + 255*(255-a) + 127) / 255)
		}
	}
	for cy := range (h + 1) / 2 {
		for cx := range (w + 1) / 2 {
			var sum, n uint32
			for y := 2 * cy; y < min(2*cy+2, h); y++ {
				for x := 2 * cx; x < min(2*cx+2, w); x++ {
					sum += uint32(s.A[y*s.AStride+x])
					n++
				}
			}
			a := (sum + n/2) / n
			i := cy*s.CStride + cx
			s.Cb[i] = uint8((uint32(s.Cb[i])*a + 128*(255-a) + 127) / 255)
			s.Cr[i] = uint8((uint32(s.Cr[i])*a + 128*(255-a) + 127) / 255)
		}
	}
}

// grayTo420 shares the grey samples as luma and adds neutral chroma.
func grayTo420(s *image.Gray) *image.YCbCr {
	w, h := s.Rect.Dx(), s.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	c := make([]byte, 2*cw*ch)
	for i := range c {
		c[i] = 128
	}
	return newYCbCr420([3]plane{
		{s.Pix, w, h, s.Stride},
		{c[:cw*ch], cw, ch, cw},
		{c[cw*ch:], cw, ch, cw},
	})
}

// rgbTo420 converts any other image (PNG, GIF, lossless WebP, CMYK JPEG)
// two rows at a time: draw.Draw composites the rows onto white in a small
// RGBA buffer (with fast paths for the common types), and the buffer is
// converted to luma and 2×2-averaged chroma. Only the source and the
// output planes are ever whole in memory. Pixels of canvas that src does
// not cover (a GIF frame smaller than its screen) stay white.
func rgbTo420(src image.Image, canvas image.Rectangle, workers int) *image.YCbCr {
	w, h := canvas.Dx(), canvas.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	out := [3]plane{newPlane(w, h), newPlane(cw, ch), newPlane(cw, ch)}
	op := draw.Over
	if o, ok := src.(interface{ Opaque() bool }); ok && o.Opaque() {
		op = draw.Src // same result on white, and more fast paths
	}
	parallel(ch, workers, func(lo, hi int) {
		buf := image.NewRGBA(image.Rect(0, 0, w, 2))
		for cy := lo; cy < hi; cy++ {
			rows := image.Rect(0, 2*cy, w, min(2*cy+2, h))
			for i := range buf.Pix {
				buf.Pix[i] = 0xFF
			}
			draw.Draw(buf, image.Rect(0, 0, w, rows.Dy()), src, rows.Min, op)
			for dy := range rows.Dy() {
				p := buf.Pix[dy*buf.Stride:]
				yRow := out[0].row(2*cy + dy)
				for x := range w {
					r, g, b := int32(p[4*x]), int32(p[4*x+1]), int32(p[4*x+2])
					yRow[x] = uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 16)
				}
			}
			cb, cr := out[1].row(cy), out[2].row(cy)
			for cx := range cw {
				var r, g, b, n int32
				for dy := range rows.Dy() {
					p := buf.Pix[dy*buf.Stride:]
					for x := 2 * cx; x < min(2*cx+2, w); x++ {
						r += int32(p[4*x])
						g += int32(p[4*x+1])
						b += int32(p[4*x+2])
						n++
					}
				}
				// JFIF's full-range BT.601 matrix, on the mean colour of
				// the 2×2 block (the transform is linear, so this is the
				// mean chroma).
				cb[cx] = uint8(min(max((-11056*r-21712*g+32768*b)/n+(128<<16)+1<<15, 0)>>16, 255))
				cr[cx] = uint8(min(max((32768*r-27440*g-5328*b)/n+(128<<16)+1<<15, 0)>>16, 255))
			}
		}
	})
	return newYCbCr420(out)
}
