package thumbnail_test

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"testing"

	"github.com/disintegration/imaging"
	_ "golang.org/x/image/webp" // for imaging.Decode

	"pixshare/workers/internal/adapters/thumbnail"
)

// reference is the plain way to make the same renditions, kept to judge
// the fast pipeline against: decode to NRGBA with imaging (which applies
// the JPEG EXIF orientation), composite onto white, and resize every size
// from the full picture with imaging's Lanczos filter. Crops take the same
// centred window as the pipeline.
func reference(tb testing.TB, data []byte, sizes []thumbnail.Size) map[string]image.Image {
	tb.Helper()
	img, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
	if err != nil {
		tb.Fatalf("reference decode: %v", err)
	}
	// Onto white with draw.Over: the same as imaging.Overlay at full
	// opacity, at a fraction of its time under -race.
	b := img.Bounds()
	canvas := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(canvas, canvas.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(canvas, canvas.Rect, img, b.Min, draw.Over)
	full := &image.NRGBA{Pix: canvas.Pix, Stride: canvas.Stride, Rect: canvas.Rect} // opaque
	out := map[string]image.Image{thumbnail.OriginalName: full}
	for _, s := range sizes {
		w, h := b.Dx(), b.Dy()
		if s.Crop {
			f := min(1, float64(w)/float64(s.Width), float64(h)/float64(s.Height))
			tw, th := int(math.Round(float64(s.Width)*f)), int(math.Round(float64(s.Height)*f))
			cw := min(w, int(math.Round(float64(h)*float64(tw)/float64(th))))
			ch := min(h, int(math.Round(float64(cw)*float64(th)/float64(tw))))
			crop := imaging.CropCenter(full, cw, ch)
			out[s.Name] = imaging.Resize(crop, tw, th, imaging.Lanczos)
			continue
		}
		f := 1.0
		if s.Width > 0 {
			f = min(f, float64(s.Width)/float64(w))
		}
		if s.Height > 0 {
			f = min(f, float64(s.Height)/float64(h))
		}
		tw, th := max(1, int(math.Round(float64(w)*f))), max(1, int(math.Round(float64(h)*f)))
		out[s.Name] = imaging.Resize(full, tw, th, imaging.Lanczos)
	}
	return out
}

// referenceEncode is the whole plain pipeline, for BenchmarkReference:
// the reference renditions, each encoded with image/jpeg.
func referenceEncode(tb testing.TB, data []byte) int {
	n := 0
	for _, m := range reference(tb, data, thumbnail.Sizes()) {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 85}); err != nil {
			tb.Fatal(err)
		}
		n += buf.Len()
	}
	return n
}

// lumaPSNR compares the luma of two same-sized images, in dB.
func lumaPSNR(tb testing.TB, got, want image.Image) float64 {
	tb.Helper()
	if got.Bounds().Size() != want.Bounds().Size() {
		tb.Fatalf("comparing %v with %v", got.Bounds(), want.Bounds())
	}
	g, w := lumaPlane(got), lumaPlane(want)
	var se float64
	for i := range g {
		d := g[i] - w[i]
		se += d * d
	}
	mse := se / float64(len(g))
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

// lumaPlane returns the JFIF luma of every pixel, row by row (directly
// for the two types the tests compare; At is slow under -race).
func lumaPlane(m image.Image) []float64 {
	b := m.Bounds()
	out := make([]float64, 0, b.Dx()*b.Dy())
	switch m := m.(type) {
	case *image.YCbCr:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for _, v := range m.Y[m.YOffset(b.Min.X, y) : m.YOffset(b.Max.X-1, y)+1] {
				out = append(out, float64(v))
			}
		}
	case *image.NRGBA: // the reference is opaque after compositing
		for y := b.Min.Y; y < b.Max.Y; y++ {
			p := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := 0; x < b.Dx(); x++ {
				out = append(out, 0.299*float64(p[4*x])+0.587*float64(p[4*x+1])+0.114*float64(p[4*x+2]))
			}
		}
	default:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := m.At(x, y).RGBA()
				out = append(out, (0.299*float64(r)+0.587*float64(g)+0.114*float64(bl))/257)
			}
		}
	}
	return out
}
