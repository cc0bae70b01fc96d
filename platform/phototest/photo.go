// Package phototest renders photo-like test pictures: there are no camera
// photos on the build machines, and a flat or synthetic pattern would
// compress and decode far faster than a real photo. A scene has a sky
// gradient over a textured ground, 1/f value noise, a soft bright disc,
// thin sharp verticals and sensor-like grain, so its JPEG has the size and
// entropy of a camera picture: about 2.7 bits per pixel at quality 90
// (4 MB at 12 MP, 8 MB at 24 MP).
package phototest

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"os"
	"sync"
)

// Render draws a w×h scene; the same seed gives the same picture.
func Render(w, h int, seed uint64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	scale := float64(w) / 1600
	type octave struct {
		n   noise
		amp float64
	}
	var octaves []octave
	amp := 38.0
	for i, step := 0, max(4, int(240*scale)); step >= 2 && i < 8; i, step = i+1, step/2 {
		octaves = append(octaves, octave{newNoise(w, h, step, seed+uint64(i)*104729), amp})
		amp *= 0.62
	}
	tint := newNoise(w, h, max(8, int(380*scale)), seed^0x5bd1e995)
	ridge := newNoise(w, 1, max(8, int(110*scale)), seed^0x27d4eb2f)
	sunX, sunY, sunR := 0.75*float64(w), 0.2*float64(h), 0.06*float64(w)
	pole, poleW := max(1, int(44*scale)), max(1, int(3*scale))

	var wg sync.WaitGroup
	const bands = 16
	for band := range bands {
		wg.Go(func() {
			for y := band * h / bands; y < (band+1)*h/bands; y++ {
				fy := float64(y) / float64(h)
				row := img.Pix[y*img.Stride:]
				for x := range w {
					var n float64
					for _, o := range octaves {
						n += o.amp * o.n.at(x, y)
					}
					horizon := (0.56 + 0.05*ridge.at(x, 0)) * float64(h)
					r, g, b := 105+95*fy, 148+82*fy, 232-24*fy
					if float64(y) < horizon {
						n *= 0.22
					} else {
						t := tint.at(x, y)
						r, g, b = 88+42*t, 112+28*t, 48+10*t
						if (x/pole)%4 == 0 && x%pole < poleW {
							r, g, b = r*0.3, g*0.3, b*0.3
						}
					}
					dx, dy := float64(x)-sunX, float64(y)-sunY
					if d := math.Sqrt(dx*dx+dy*dy) - sunR; d < scale {
						a := min(1, 0.5-d/(2*scale))
						r, g, b = r+(255-r)*a, g+(238-g)*a, b+(198-b)*a
					}
					n += 2.0 * (float64(hash(x, y, seed)&15) - 7.5)
					i := 4 * x
					row[i], row[i+1], row[i+2], row[i+3] = clamp(r+n), clamp(g+0.9*n), clamp(b+0.8*n), 255
				}
			}
		})
	}
	wg.Wait()
	return img
}

// JPEG renders a w×h scene and encodes it at quality.
func JPEG(w, h int, seed uint64, quality int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, Render(w, h, seed), &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("encode %dx%d JPEG: %w", w, h, err)
	}
	return buf.Bytes(), nil
}

// WriteJPEG writes a w×h scene at quality 90 to path.
func WriteJPEG(path string, w, h int, seed uint64) error {
	b, err := JPEG(w, h, seed, 90)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// noise is smooth value noise on a grid of the given step.
type noise struct {
	step, gw int
	v        []float64
}

func newNoise(w, h, step int, seed uint64) noise {
	gw, gh := w/step+2, h/step+2
	n := noise{step: step, gw: gw, v: make([]float64, gw*gh)}
	s := seed | 1
	for i := range n.v {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		n.v[i] = float64(s>>40)/float64(1<<24)*2 - 1
	}
	return n
}

func (n noise) at(x, y int) float64 {
	gx, gy := x/n.step, y/n.step
	fx := float64(x%n.step) / float64(n.step)
	fy := float64(y%n.step) / float64(n.step)
	fx = fx * fx * (3 - 2*fx)
	fy = fy * fy * (3 - 2*fy)
	i := gy*n.gw + gx
	a := n.v[i] + (n.v[i+1]-n.v[i])*fx
	b := n.v[i+n.gw] + (n.v[i+n.gw+1]-n.v[i+n.gw])*fx
	return a + (b-a)*fy
}

func hash(x, y int, seed uint64) uint64 {
	h := uint64(x)*0x9E3779B97F4A7C15 ^ uint64(y)*0xC2B2AE3D27D4EB4F ^ seed
	h ^= h >> 31
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 29
	return h
}

func clamp(v float64) uint8 { return uint8(min(max(v, 0), 255) + 0.5) }
