package thumbnail_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"pixshare/platform/phototest"
	"pixshare/workers/internal/adapters/thumbnail"
)

// TestMemoryCost checks that MemoryCost bounds what Generate allocates,
// on every kind of picture: baseline, progressive, rotated, RGB and CMYK
// JPEG at full and reduced DCT scale, 8- and 16-bit PNG with alpha, GIF,
// lossless and lossy WebP. With the collector off, the growth of
// TotalAlloc over one Generate is everything it allocated, which is at
// least its peak of live memory; the estimate must be above it and not
// so far above (4×) that a budget would turn away what it could take.
//
// Not parallel: TotalAlloc counts every goroutine's allocations.
func TestMemoryCost(t *testing.T) {
	pictures := map[string][]byte{}
	for _, name := range []string{"portrait-exif6.jpg", "alpha.png", "small.png", "anim.gif", "photo.webp", "photo-lossy.webp"} {
		pictures[name] = fixture(t, name)
	}
	for _, name := range []string{"video-001.progressive.jpeg", "video-001.cmyk.jpeg", "video-001.rgb.jpeg", "video-001.q50.444.progressive.jpeg"} {
		data, err := os.ReadFile(filepath.Join("jpegdec/testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		pictures[name] = data
	}
	// Wide enough to decode at a reduced size (5/8: 1500 wide for the
	// 1080-wide size), low enough to be quick under -race.
	camera, err := phototest.JPEG(2400, 360, 3, 90)
	if err != nil {
		t.Fatal(err)
	}
	pictures["photo-2400x360.jpg"] = camera
	pictures["16-bit.png"] = png16(t, 700, 500)

	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for name, data := range pictures {
		cost, err := thumbnail.MemoryCost(data, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := thumbnail.Generate(context.Background(), data, thumbnail.Options{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		runtime.ReadMemStats(&after)
		used := int64(after.TotalAlloc - before.TotalAlloc)
		t.Logf("%-36s MemoryCost %6.1f MB, allocated %6.1f MB (%.2f×)", name, float64(cost)/1e6, float64(used)/1e6, float64(cost)/float64(used))
		if cost < used {
			t.Errorf("%s: MemoryCost says %d bytes, Generate allocated %d", name, cost, used)
		}
		if cost > 4*used+2<<20 {
			t.Errorf("%s: MemoryCost says %d bytes, more than 4× the %d Generate allocated", name, cost, used)
		}
		runtime.GC()
	}
}

// png16 is a w×h 16-bit RGBA PNG with a gradient and some transparency.
func png16(t *testing.T, w, h int) []byte {
	t.Helper()
	m := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA64(x, y, color.NRGBA64{uint16(x * 65535 / w), uint16(y * 65535 / h), uint16(x * y), uint16(65535 - x*20)})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestMemoryCostRefuses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		data []byte
		max  int64
		want error
	}{
		{"bomb", fixture(t, "bomb.png"), 0, thumbnail.ErrTooManyPixels},
		{"over the limit", fixture(t, "landscape.jpg"), 1000, thumbnail.ErrTooManyPixels},
		{"text", fixture(t, "not-an-image.txt"), 0, thumbnail.ErrUnsupportedFormat},
		{"JPEG magic only", []byte{0xFF, 0xD8, 0xFF}, 0, thumbnail.ErrCorrupt},
	} {
		if _, err := thumbnail.MemoryCost(tt.data, tt.max); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}
