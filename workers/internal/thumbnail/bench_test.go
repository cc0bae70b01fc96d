package thumbnail_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"pixshare/post/media"
	"pixshare/workers/internal/thumbnail"
)

// benchImage is one picture to benchmark on.
type benchImage struct {
	name   string
	path   string
	data   []byte
	pixels int
}

// benchImages reads every picture Generate accepts from the directory named
// by PIXSHARE_BENCH_IMAGES. Without it, the committed fixtures are used plus
// a 6000×4000 (24 MP) photo-like JPEG written to a temporary directory: the
// size of camera photo the speed goal is about, too big to commit.
func benchImages(b *testing.B) []benchImage {
	b.Helper()
	dir := os.Getenv("PIXSHARE_BENCH_IMAGES")
	var paths []string
	if dir == "" {
		dir = photos
		big := filepath.Join(b.TempDir(), "camera-24mp.jpg")
		if err := writeJPEG(big, photo(6000, 4000, 7), 92); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, big)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(paths)
	var out []benchImage
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		info, err := media.Inspect(bytes.NewReader(data), thumbnail.DefaultMaxPixels)
		if err != nil {
			continue // not a picture we make thumbnails of
		}
		if _, err := thumbnail.Generate(context.Background(), data, thumbnail.Options{}); err != nil {
			continue // corrupt: the worker refuses it at once
		}
		out = append(out, benchImage{filepath.Base(p), p, data, info.Width * info.Height})
	}
	return out
}

func reportMPs(b *testing.B, pixels int) {
	b.ReportMetric(float64(pixels)*float64(b.N)/1e6/b.Elapsed().Seconds(), "MP/s")
}

// BenchmarkGenerate times the whole job of the thumbnailer for one picture:
// decode, the original re-encoded, and every served size.
func BenchmarkGenerate(b *testing.B) {
	for _, img := range benchImages(b) {
		b.Run(img.name, func(b *testing.B) {
			b.SetBytes(int64(len(img.data)))
			for b.Loop() {
				if _, err := thumbnail.Generate(context.Background(), img.data, thumbnail.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			reportMPs(b, img.pixels)
		})
	}
}

// BenchmarkReference times the plain path on the same pictures (imaging's
// decode and Lanczos resize from the full picture for every size, and
// image/jpeg), for the before/after comparison.
func BenchmarkReference(b *testing.B) {
	for _, img := range benchImages(b) {
		b.Run(img.name, func(b *testing.B) {
			b.SetBytes(int64(len(img.data)))
			for b.Loop() {
				referenceEncode(b, img.data)
			}
			reportMPs(b, img.pixels)
		})
	}
}

// BenchmarkVipsthumbnail times libvips' vipsthumbnail making one 320-wide
// thumbnail of each picture (the speed goal is Generate ≤ 2× this), when
// it is installed (Debian: libvips-tools). It includes starting the
// process, as the command-line comparison does.
func BenchmarkVipsthumbnail(b *testing.B) {
	vips, err := exec.LookPath("vipsthumbnail")
	if err != nil {
		b.Skip("vipsthumbnail is not installed (apt-get install libvips-tools)")
	}
	out := filepath.Join(b.TempDir(), "t.jpg")
	for _, img := range benchImages(b) {
		b.Run(img.name, func(b *testing.B) {
			for b.Loop() {
				cmd := exec.Command(vips, img.path, "--size", "320", "-o", out+"[Q=85]")
				if msg, err := cmd.CombinedOutput(); err != nil {
					var exit *exec.ExitError
					if errors.As(err, &exit) {
						b.Skipf("vipsthumbnail refuses %s: %s", img.name, msg)
					}
					b.Fatal(err)
				}
			}
			reportMPs(b, img.pixels)
		})
	}
}

func writeJPEG(path string, m image.Image, quality int) error {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// photo renders a photo-like scene, as testdata/photos/gen does for the
// fixtures (that generator is its own module, so it cannot be imported):
// sky gradient, 1/f value-noise texture, soft discs, thin sharp posts and
// grain. Rows are rendered in parallel; the result is deterministic.
func photo(w, h int, seed uint64) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	scale := float32(w) / 1600
	var octaves []valueNoise
	var amps []float32
	for i, step := 0, max(4, int(256*scale)); step >= 2 && i < 8; i, step = i+1, step/2 {
		octaves = append(octaves, newValueNoise(w, h, step, seed+uint64(i)*7919))
		amps = append(amps, 40*float32(math.Pow(0.62, float64(i))))
	}
	hue := newValueNoise(w, h, max(8, int(400*scale)), seed^0xABCDEF)
	horizon := newValueNoise(w, 1, max(8, int(120*scale)), seed^0x1234)
	post, postW := max(1, int(40*scale)), max(1, int(3*scale))
	var wg sync.WaitGroup
	const stripes = 16
	for s := range stripes {
		wg.Go(func() {
			for y := s * h / stripes; y < (s+1)*h/stripes; y++ {
				hy := float32(y) / float32(h)
				for x := range w {
					var n float32
					for i, o := range octaves {
						n += amps[i] * o.at(x, y)
					}
					hz := 0.55*float32(h) + 0.06*float32(h)*horizon.at(x, 0)
					r, g, b := 110+90*hy, 150+80*hy, 230-20*hy
					if float32(y) < hz {
						n *= 0.25
					} else {
						t := hue.at(x, y)
						r, g, b = 90+40*t, 110+30*t, 50
						if (x/post)%3 == 0 && x%post < postW {
							r, g, b = r*0.3, g*0.3, b*0.3
						}
					}
					dx, dy := float32(x)-0.78*float32(w), float32(y)-0.22*float32(h)
					if d := float32(math.Sqrt(float64(dx*dx+dy*dy))) - 0.07*float32(w); d < scale {
						a := min(1, 0.5-d/(2*scale))
						r, g, b = r+(255-r)*a, g+(240-g)*a, b+(200-b)*a
					}
					n += 0.6 * (float32(grain(x, y, seed)&15) - 7.5)
					img.SetNRGBA(x, y, color.NRGBA{clamp(r + n), clamp(g + 0.9*n), clamp(b + 0.8*n), 255})
				}
			}
		})
	}
	wg.Wait()
	return img
}

type valueNoise struct {
	step, gw int
	v        []float32
}

func newValueNoise(w, h, step int, seed uint64) valueNoise {
	gw, gh := w/step+2, h/step+2
	f := valueNoise{step: step, gw: gw, v: make([]float32, gw*gh)}
	s := seed | 1
	for i := range f.v {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		f.v[i] = float32(s>>40)/float32(1<<24)*2 - 1
	}
	return f
}

func (f valueNoise) at(x, y int) float32 {
	gx, gy := x/f.step, y/f.step
	fx := float32(x%f.step) / float32(f.step)
	fy := float32(y%f.step) / float32(f.step)
	fx = fx * fx * (3 - 2*fx)
	fy = fy * fy * (3 - 2*fy)
	i := gy*f.gw + gx
	a := f.v[i] + (f.v[i+1]-f.v[i])*fx
	b := f.v[i+f.gw] + (f.v[i+f.gw+1]-f.v[i+f.gw])*fx
	return a + (b-a)*fy
}

func grain(x, y int, seed uint64) uint64 {
	h := uint64(x)*0x9E3779B97F4A7C15 ^ uint64(y)*0xC2B2AE3D27D4EB4F ^ seed
	h ^= h >> 31
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 29
	return h
}

func clamp(v float32) uint8 { return uint8(min(max(v, 0), 255) + 0.5) }
