package jpegdec

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
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
