package jpegenc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"testing"
)

// testPlanes makes smooth 4:2:0 planes with a distinct value in every
// region, so a wrong orientation or a shifted block shows as a large error.
func testPlanes(w, h int) *image.YCbCr {
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			m.Y[y*m.YStride+x] = uint8(40 + 170*x/w + 30*y/h)
		}
	}
	for y := range (h + 1) / 2 {
		for x := range (w + 1) / 2 {
			m.Cb[y*m.CStride+x] = uint8(90 + 80*y/((h+1)/2))
			m.Cr[y*m.CStride+x] = uint8(170 - 80*x/((w+1)/2))
		}
	}
	return m
}

// orient is the plain definition of the EXIF orientations: where output
// pixel (x, y) of the upright image comes from in the stored w×h image.
func orient(o, x, y, w, h int) (int, int) {
	switch o {
	case 2:
		return w - 1 - x, y
	case 3:
		return w - 1 - x, h - 1 - y
	case 4:
		return x, h - 1 - y
	case 5:
		return y, x
	case 6:
		return y, h - 1 - x
	case 7:
		return w - 1 - y, h - 1 - x
	case 8:
		return w - 1 - y, x
	}
	return x, y
}

func psnr(mse float64) float64 {
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	sizes := []image.Point{{1, 1}, {7, 5}, {16, 16}, {17, 9}, {33, 65}, {150, 150}, {321, 213}}
	for _, size := range sizes {
		for o := 1; o <= 8; o++ {
			t.Run(fmt.Sprintf("%dx%d/orientation%d", size.X, size.Y, o), func(t *testing.T) {
				t.Parallel()
				src := testPlanes(size.X, size.Y)
				data, err := Encode(context.Background(), src, Options{Quality: 95, Orientation: o, Workers: 3})
				if err != nil {
					t.Fatal(err)
				}
				got, err := jpeg.Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("decoding our output: %v", err)
				}
				ycc := got.(*image.YCbCr)
				wantW, wantH := size.X, size.Y
				if o >= 5 {
					wantW, wantH = wantH, wantW
				}
				if b := ycc.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
					t.Fatalf("decoded %v, want %dx%d", b, wantW, wantH)
				}
				var se [3]float64
				for y := range wantH {
					for x := range wantW {
						sx, sy := orient(o, x, y, size.X, size.Y)
						g := ycc.YCbCrAt(x, y)
						w := src.YCbCrAt(sx, sy)
						se[0] += sq(float64(g.Y) - float64(w.Y))
						// A mirrored axis of odd length puts the
						// chroma grid half a sample off (each output
						// chroma sample straddles two stored ones), so
						// chroma may come from a neighbour.
						cb, cr := math.Inf(1), math.Inf(1)
						for _, d := range [][2]int{{0, 0}, {-1, 0}, {1, 0}, {0, -1}, {0, 1}, {-1, -1}, {1, 1}, {-1, 1}, {1, -1}} {
							nx := min(max(sx+d[0], 0), size.X-1)
							ny := min(max(sy+d[1], 0), size.Y-1)
							n := src.YCbCrAt(nx, ny)
							cb = min(cb, sq(float64(g.Cb)-float64(n.Cb)))
							cr = min(cr, sq(float64(g.Cr)-float64(n.Cr)))
						}
						se[1] += cb
						se[2] += cr
					}
				}
				for i, name := range []string{"Y", "Cb", "Cr"} {
					// Smooth content at quality 95: anything below 38 dB
					// means misplaced pixels, not quantisation.
					if p := psnr(se[i] / float64(wantW*wantH)); p < 38 {
						t.Errorf("%s PSNR %.1f dB, want ≥ 38", name, p)
					}
				}
			})
		}
	}
}

func sq(v float64) float64 { return v * v }

// TestEncodeWritesOnlyPixelSegments walks the marker structure: nothing but
// the segments needed to decode (no APPn, no COM) and one RSTn between
// consecutive MCU rows.
func TestEncodeWritesOnlyPixelSegments(t *testing.T) {
	t.Parallel()
	data, err := Encode(context.Background(), testPlanes(100, 70), Options{})
	if err != nil {
		t.Fatal(err)
	}
	markers, restarts := scanMarkers(t, data)
	want := []byte{0xD8, 0xDB, 0xC0, 0xC4, 0xDD, 0xDA, 0xD9}
	if !bytes.Equal(markers, want) {
		t.Errorf("segments % X, want % X", markers, want)
	}
	if wantRST := (70+15)/16 - 1; restarts != wantRST {
		t.Errorf("%d restart markers, want %d", restarts, wantRST)
	}
}

// scanMarkers returns the marker codes outside entropy-coded data, and the
// number of RSTn markers inside it.
func scanMarkers(t *testing.T, data []byte) (markers []byte, restarts int) {
	t.Helper()
	i := 0
	for i+1 < len(data) {
		if data[i] != 0xFF {
			t.Fatalf("expected a marker at %d, found %#x", i, data[i])
		}
		m := data[i+1]
		markers = append(markers, m)
		i += 2
		if m == 0xD8 || m == 0xD9 {
			continue
		}
		i += int(data[i])<<8 | int(data[i+1])
		if m != 0xDA {
			continue
		}
		for i+1 < len(data) {
			if data[i] == 0xFF && data[i+1] != 0 {
				if data[i+1] >= 0xD0 && data[i+1] <= 0xD7 {
					restarts++
					i += 2
					continue
				}
				break
			}
			i++
		}
	}
	return markers, restarts
}

func TestEncodeRefuses(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		m    *image.YCbCr
		opts Options
		is   error
	}{
		{"4:4:4 planes", context.Background(), image.NewYCbCr(image.Rect(0, 0, 8, 8), image.YCbCrSubsampleRatio444), Options{}, nil},
		{"bounds off the origin", context.Background(), image.NewYCbCr(image.Rect(2, 2, 10, 10), image.YCbCrSubsampleRatio420), Options{}, nil},
		{"empty", context.Background(), image.NewYCbCr(image.Rect(0, 0, 0, 0), image.YCbCrSubsampleRatio420), Options{}, nil},
		{"quality 101", context.Background(), testPlanes(8, 8), Options{Quality: 101}, nil},
		{"orientation 9", context.Background(), testPlanes(8, 8), Options{Orientation: 9}, nil},
		{"canceled", canceled, testPlanes(64, 64), Options{}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Encode(tt.ctx, tt.m, tt.opts)
			if err == nil {
				t.Fatal("Encode succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want %v", err, tt.is)
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	m := testPlanes(6000, 4000)
	for i := range m.Y {
		m.Y[i] += uint8(i * 7 % 13) // some texture, so the entropy coder works
	}
	b.Run("jpegenc", func(b *testing.B) {
		for b.Loop() {
			if _, err := Encode(context.Background(), m, Options{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(24*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
	})
	b.Run("jpegenc-rotated", func(b *testing.B) {
		for b.Loop() {
			if _, err := Encode(context.Background(), m, Options{Orientation: 6}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(24*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
	})
	b.Run("image-jpeg", func(b *testing.B) {
		for b.Loop() {
			if err := jpeg.Encode(new(bytes.Buffer), m, &jpeg.Options{Quality: DefaultQuality}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(24*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
	})
}
