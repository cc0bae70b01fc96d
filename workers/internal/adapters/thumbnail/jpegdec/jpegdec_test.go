package jpegdec

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// testdata holds image/jpeg's own test pictures (same licence): every
// chroma subsampling, progressive and sequential, restart intervals,
// grey, CMYK, RGB and a truncated progressive file.
func testFiles(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob("testdata/*.jp*g")
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no test pictures: %v", err)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		files[filepath.Base(p)] = data
	}
	// A bigger picture, so that many MCU rows are in flight at once.
	big := image.NewRGBA(image.Rect(0, 0, 1031, 777))
	for y := range 777 {
		for x := range 1031 {
			big.SetRGBA(x, y, color.RGBA{uint8(x ^ y), uint8(x * y >> 6), uint8(3*x + y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, big, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	files["big.jpeg"] = buf.Bytes()
	files["big.truncated.jpeg"] = buf.Bytes()[:buf.Len()/2]
	return files
}

// TestSameAsImageJPEG: the decoder must be image/jpeg, only faster: the
// same pixels, image type and errors for every test picture.
func TestSameAsImageJPEG(t *testing.T) {
	t.Parallel()
	for name, data := range testFiles(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			compare(t, data)
		})
	}
}

func compare(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := jpeg.Decode(bytes.NewReader(data))
	got, gotErr := Decode(bytes.NewReader(data))
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("error %q, image/jpeg says %q", gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %T %v differs from image/jpeg's %T %v", got, got.Bounds(), want, want.Bounds())
	}
	gotCfg, gotErr := DecodeConfig(bytes.NewReader(data))
	wantCfg, wantErr := jpeg.DecodeConfig(bytes.NewReader(data))
	if gotCfg != wantCfg || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("DecodeConfig = %+v, %v; image/jpeg says %+v, %v", gotCfg, gotErr, wantCfg, wantErr)
	}
}

// FuzzSameAsImageJPEG holds the decoder to image/jpeg on any input.
//
//	go test -fuzz FuzzSameAsImageJPEG ./internal/thumbnail/jpegdec
func FuzzSameAsImageJPEG(f *testing.F) {
	for name, data := range testFiles(f) {
		if len(data) < 8<<10 || name == "video-001.q50.420.progressive.jpeg" {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width*cfg.Height > 1<<22 {
			return // keep the fuzzer on pictures that decode quickly
		}
		compare(t, data)
		// The scaled decodes read the same stream: the same error, or
		// a picture of the scaled size, and never a panic.
		_, wantErr := jpeg.Decode(bytes.NewReader(data))
		for _, n := range []int{1, 3, 4} {
			if _, err := DecodeScaled(bytes.NewReader(data), n); fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("%d/8: error %q, image/jpeg says %q", n, err, wantErr)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	big := image.NewYCbCr(image.Rect(0, 0, 6000, 4000), image.YCbCrSubsampleRatio420)
	for i := range big.Y {
		big.Y[i] = uint8(i*7%251) ^ uint8(i>>12)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, big, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.Run("jpegdec", func(b *testing.B) {
		for b.Loop() {
			if _, err := Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("image-jpeg", func(b *testing.B) {
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDecodeScaled: at every block size n from 1 to 7 (n/8 of the size)
// every test picture decodes to the same image type as at full size,
// ceil(w·n/8)×ceil(h·n/8), close to the full decode (the reduced IDCT
// keeps the block's low frequencies; 30 dB against an area mean is far
// above what a wrong cosine table, a misplaced block, a wrong level shift
// or a mixed-up plane gives), and with the same error as Decode where
// Decode fails.
func TestDecodeScaled(t *testing.T) {
	t.Parallel()
	for name, data := range testFiles(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			full, fullErr := Decode(bytes.NewReader(data))
			for n := 1; n < 8; n++ {
				got, err := DecodeScaled(bytes.NewReader(data), n)
				if fmt.Sprint(err) != fmt.Sprint(fullErr) {
					t.Fatalf("%d/8: error %q, Decode says %q", n, err, fullErr)
				}
				if err != nil {
					continue
				}
				fb := full.Bounds()
				w, h := ScaledSize(fb.Dx(), fb.Dy(), n)
				if got.Bounds() != image.Rect(0, 0, w, h) || reflect.TypeOf(got) != reflect.TypeOf(full) {
					t.Fatalf("%d/8: %T %v, want %T %dx%d", n, got, got.Bounds(), full, w, h)
				}
				// An RGB JPEG subsamples G and B, which a grey value
				// mixes with full-resolution R: only cells of whole
				// chroma samples compare fairly there.
				p := areaPSNR(full, got, n)
				if _, rgb := full.(*image.RGBA); rgb {
					p = cellPSNR(full, got, n)
				}
				t.Logf("%d/8: %.1f dB against the full decode", n, p)
				if p < 30 {
					t.Errorf("%d/8: %.1f dB against the full decode, want ≥ 30", n, p)
				}
			}
		})
	}
	for _, n := range []int{0, 9} {
		if _, err := DecodeScaled(bytes.NewReader(nil), n); err == nil {
			t.Errorf("DecodeScaled accepted a block size of %d", n)
		}
	}
}

// areaPSNR compares the grey value of every pixel of small (n/8 of full's
// size) with the area-weighted mean of the full pixels it covers (small's
// pixel x spans full's [8x/n, 8(x+1)/n)), over the whole 16×16 cells of
// full only: a partial block is padded differently in the two decodes.
// The reduced IDCT is not an area mean (it keeps the block's low
// frequencies, the area mean blurs across block edges), but the two agree
// to within a few levels; a wrong cosine table or a misplaced sample does
// not.
func areaPSNR(full, small image.Image, n int) float64 {
	fb := full.Bounds()
	gray := make([]float64, fb.Dx()*fb.Dy())
	for y := range fb.Dy() {
		for x := range fb.Dx() {
			gray[y*fb.Dx()+x] = float64(color.GrayModel.Convert(full.At(fb.Min.X+x, fb.Min.Y+y)).(color.Gray).Y)
		}
	}
	span := func(i int) (lo, hi float64) { return float64(8*i) / float64(n), float64(8*(i+1)) / float64(n) }
	var se, cnt float64
	for y := 0; y < fb.Dy()/16*2*n; y++ {
		y0, y1 := span(y)
		for x := 0; x < fb.Dx()/16*2*n; x++ {
			x0, x1 := span(x)
			var sum, area float64
			for fy := int(y0); float64(fy) < y1; fy++ {
				wy := math.Min(y1, float64(fy+1)) - math.Max(y0, float64(fy))
				for fx := int(x0); float64(fx) < x1; fx++ {
					wx := math.Min(x1, float64(fx+1)) - math.Max(x0, float64(fx))
					sum += wx * wy * gray[fy*fb.Dx()+fx]
					area += wx * wy
				}
			}
			d := float64(color.GrayModel.Convert(small.At(x, y)).(color.Gray).Y) - sum/area
			se += d * d
			cnt++
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*cnt/se)
}

// cellPSNR compares the grey values of full and small (n/8 of its size)
// on the grid of 16×16 cells of full, which are 2n×2n cells of small:
// each holds whole blocks and whole chroma samples of both.
func cellPSNR(full, small image.Image, n int) float64 {
	mean := func(m image.Image, x0, y0, size int) float64 {
		var sum, cnt float64
		for y := y0; y < y0+size; y++ {
			for x := x0; x < x0+size; x++ {
				sum += float64(color.GrayModel.Convert(m.At(x, y)).(color.Gray).Y)
				cnt++
			}
		}
		return sum / cnt
	}
	fb := full.Bounds()
	var se, cells float64
	for cy := 0; 16*cy+16 <= fb.Dy(); cy++ {
		for cx := 0; 16*cx+16 <= fb.Dx(); cx++ {
			d := mean(small, 2*n*cx, 2*n*cy, 2*n) - mean(full, 16*cx, 16*cy, 16)
			se += d * d
			cells++
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*cells/se)
}
