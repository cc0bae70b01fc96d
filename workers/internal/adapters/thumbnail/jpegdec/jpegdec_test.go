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
		for _, denom := range []int{2, 4, 8} {
			if _, err := DecodeScaled(bytes.NewReader(data), denom); fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("1/%d: error %q, image/jpeg says %q", denom, err, wantErr)
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

// TestDecodeScaled: at 1/2, 1/4 and 1/8 every test picture decodes to the
// same image type as at full size, ceil(w/denom)×ceil(h/denom), close to
// the box mean of the full decode (the reduced IDCT keeps the block's low
// frequencies, so it is a little sharper than a box mean: 30 dB is far
// above what a misplaced block, a wrong level shift or a mixed-up plane
// gives, under 20 dB), and with the same error as Decode where Decode
// fails.
func TestDecodeScaled(t *testing.T) {
	t.Parallel()
	for name, data := range testFiles(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			full, fullErr := Decode(bytes.NewReader(data))
			for _, denom := range []int{2, 4, 8} {
				got, err := DecodeScaled(bytes.NewReader(data), denom)
				if fmt.Sprint(err) != fmt.Sprint(fullErr) {
					t.Fatalf("1/%d: error %q, Decode says %q", denom, err, fullErr)
				}
				if err != nil {
					continue
				}
				fb := full.Bounds()
				want := image.Rect(0, 0, (fb.Dx()+denom-1)/denom, (fb.Dy()+denom-1)/denom)
				if got.Bounds() != want || reflect.TypeOf(got) != reflect.TypeOf(full) {
					t.Fatalf("1/%d: %T %v, want %T %v", denom, got, got.Bounds(), full, want)
				}
				p := boxPSNR(full, got, denom)
				t.Logf("1/%d: %.1f dB against the box mean", denom, p)
				if p < 30 {
					t.Errorf("1/%d: %.1f dB against the box mean of the full decode, want ≥ 30", denom, p)
				}
			}
		})
	}
	if _, err := DecodeScaled(bytes.NewReader(nil), 3); err == nil {
		t.Error("DecodeScaled accepted a denominator of 3")
	}
}

// boxPSNR compares the grey values of full and small (k times smaller) on
// a common grid: the means of 2k×2k cells of full against those of 2×2
// cells of small. The cells span a chroma sample of both (chroma may be
// subsampled by 2, and an RGB JPEG may subsample G and B), so what is
// compared is what both decodes hold.
func boxPSNR(full, small image.Image, k int) float64 {
	mean := func(m image.Image, x0, y0, n int) float64 {
		b := m.Bounds()
		var sum, cnt float64
		for y := y0; y < min(y0+n, b.Max.Y); y++ {
			for x := x0; x < min(x0+n, b.Max.X); x++ {
				sum += float64(color.GrayModel.Convert(m.At(x, y)).(color.Gray).Y)
				cnt++
			}
		}
		return sum / cnt
	}
	sb := small.Bounds()
	var se, n float64
	for y := 0; y < sb.Dy(); y += 2 {
		for x := 0; x < sb.Dx(); x += 2 {
			d := mean(small, x, y, 2) - mean(full, x*k, y*k, 2*k)
			se += d * d
			n++
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*n/se)
}
