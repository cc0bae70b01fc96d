package thumbnail

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"

	"pixshare/platform/phototest"
	"pixshare/workers/internal/adapters/thumbnail/jpegdec"
)

// The benchmarks below are what earns each hand-written piece its place
// (docs/images.md has the numbers): each times the piece against what the
// libraries alone would do for the same job.
//
//	cd workers && PIXSHARE_BENCH_IMAGES=<corpus> go test -run '^$' \
//	    -bench '^Benchmark(CleanOriginal|SizesSource|EncodeSizes)$' -count 6 ./internal/adapters/thumbnail

// camera24 returns the corpus's camera-24mp.jpg when PIXSHARE_BENCH_IMAGES
// names the corpus (scripts/bench.sh builds it), else a rendered
// photo-like 6000×4000 JPEG.
func camera24(b *testing.B) []byte {
	b.Helper()
	if dir := os.Getenv("PIXSHARE_BENCH_IMAGES"); dir != "" {
		if data, err := os.ReadFile(filepath.Join(dir, "camera-24mp.jpg")); err == nil {
			return data
		}
	}
	data, err := phototest.JPEG(6000, 4000, 7, 92)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkCleanOriginal: the clean original of a 24 MP JPEG by rewriting
// its segment list (strip) against decoding and re-encoding every pixel
// with the libraries (reencode), which is also what an orientation other
// than 1 would cost if it were applied to the pixels (plus the turn).
func BenchmarkCleanOriginal(b *testing.B) {
	data := camera24(b)
	b.Run("strip", func(b *testing.B) {
		for b.Loop() {
			if _, err := stripJPEG(data, 6); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reencode", func(b *testing.B) {
		for b.Loop() {
			m, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			if err := jpeg.Encode(new(bytes.Buffer), m, &jpeg.Options{Quality: DefaultQuality}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reencode-rotated", func(b *testing.B) {
		for b.Loop() {
			m, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := encode(imaging.Rotate270(m), DefaultQuality); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSizesSource: the picture the sizes are made from, decoded and
// resized to the largest size (1080 wide): by jpegdec at 2/8 (what
// Generate does), by jpegdec at full size (its parallel reconstruct
// alone), and by image/jpeg, the library.
func BenchmarkSizesSource(b *testing.B) {
	data := camera24(b)
	run := func(decode func() (image.Image, error)) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				m, err := decode()
				if err != nil {
					b.Fatal(err)
				}
				imaging.Resize(m, 1080, 0, imaging.Lanczos)
			}
		}
	}
	b.Run("jpegdec-quarter", run(func() (image.Image, error) { return jpegdec.DecodeScaled(bytes.NewReader(data), 2) }))
	b.Run("jpegdec-full", run(func() (image.Image, error) { return jpegdec.Decode(bytes.NewReader(data)) }))
	b.Run("image-jpeg", run(func() (image.Image, error) { return jpeg.Decode(bytes.NewReader(data)) }))
	b.Run("decode-only/jpegdec-quarter", func(b *testing.B) {
		for b.Loop() {
			if _, err := jpegdec.DecodeScaled(bytes.NewReader(data), 2); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-only/jpegdec-full", func(b *testing.B) {
		for b.Loop() {
			if _, err := jpegdec.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-only/image-jpeg", func(b *testing.B) {
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEncodeSizes: image/jpeg encoding the four sizes of a 3:2 photo
// (1080×720, 640×427, 320×213, 150×150), the work jpegenc (the deleted
// parallel encoder) used to do; docs/images.md compares it with jpegenc's.
func BenchmarkEncodeSizes(b *testing.B) {
	m, err := jpegdec.DecodeScaled(bytes.NewReader(camera24(b)), 2)
	if err != nil {
		b.Fatal(err)
	}
	var sizes []image.Image
	for _, s := range [][2]int{{1080, 720}, {640, 427}, {320, 213}} {
		sizes = append(sizes, imaging.Resize(m, s[0], s[1], imaging.Lanczos))
	}
	sizes = append(sizes, imaging.Fill(m, 150, 150, imaging.Center, imaging.Lanczos))
	for b.Loop() {
		for _, s := range sizes {
			if _, err := encode(s, DefaultQuality); err != nil {
				b.Fatal(err)
			}
		}
	}
}
