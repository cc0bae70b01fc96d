package thumbnail

import (
	"image"
	"math"
	"sync"
	"sync/atomic"
)

// plane is one 8-bit channel: w×h samples, rows stride bytes apart.
type plane struct {
	pix          []byte
	w, h, stride int
}

func newPlane(w, h int) plane {
	return plane{pix: make([]byte, w*h), w: w, h: h, stride: w}
}

func (p plane) row(y int) []byte { return p.pix[y*p.stride : y*p.stride+p.w] }

// planes returns the luma and chroma planes of a 4:2:0 image whose bounds
// start at the origin.
func planes(m *image.YCbCr) [3]plane {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	return [3]plane{
		{m.Y, w, h, m.YStride},
		{m.Cb, cw, ch, m.CStride},
		{m.Cr, cw, ch, m.CStride},
	}
}

// newYCbCr420 wraps three planes as an image (the chroma planes share a stride).
func newYCbCr420(p [3]plane) *image.YCbCr {
	return &image.YCbCr{
		Y: p[0].pix, Cb: p[1].pix, Cr: p[2].pix,
		YStride: p[0].stride, CStride: p[1].stride,
		SubsampleRatio: image.YCbCrSubsampleRatio420,
		Rect:           image.Rect(0, 0, p[0].w, p[0].h),
	}
}

// parallel runs fn over [0, n) in chunks on up to workers goroutines.
// Chunks are small enough that a slow core does not hold the others up.
func parallel(n, workers int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	chunk := max(1, n/(4*workers))
	if workers <= 1 || n <= chunk {
		fn(0, n)
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, (n+chunk-1)/chunk) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				fn(lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
}

// boxShrink averages k×k blocks of src into dst, which must be
// ceil(w/k)×ceil(h/k); blocks cut by the right or bottom edge average
// what they cover. An integer box is the cheapest good way to lose the
// first factors of a big reduction: every source sample is read once and
// weighted equally, so nothing aliases that the final filter would keep.
func boxShrink(dst, src plane, k, workers int) {
	if k == 2 {
		parallel(dst.h, workers, func(lo, hi int) {
			for y := lo; y < hi; y++ {
				r0 := src.row(2 * y)
				r1 := r0
				if 2*y+1 < src.h {
					r1 = src.row(2*y + 1)
				}
				d := dst.row(y)
				full := src.w / 2
				for x := range full {
					d[x] = uint8((uint(r0[2*x]) + uint(r0[2*x+1]) + uint(r1[2*x]) + uint(r1[2*x+1]) + 2) >> 2)
				}
				if full < dst.w { // odd width: the last column stands alone
					d[full] = uint8((uint(r0[src.w-1]) + uint(r1[src.w-1]) + 1) >> 1)
				}
			}
		})
		return
	}
	parallel(dst.h, workers, func(lo, hi int) {
		sums := make([]uint32, dst.w)
		for y := lo; y < hi; y++ {
			clear(sums)
			y0, y1 := y*k, min(y*k+k, src.h)
			for sy := y0; sy < y1; sy++ {
				r := src.row(sy)
				for x := range sums {
					x0, x1 := x*k, min(x*k+k, src.w)
					var s uint32
					for _, v := range r[x0:x1] {
						s += uint32(v)
					}
					sums[x] += s
				}
			}
			d := dst.row(y)
			rows := uint32(y1 - y0)
			for x, s := range sums {
				n := rows * uint32(min(x*k+k, src.w)-x*k)
				d[x] = uint8((s + n/2) / n)
			}
		}
	})
}

// filter is a reconstruction kernel with its support radius (in source
// samples at scale 1).
type filter struct {
	support float64
	at      func(x float64) float64
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

// lanczos3 is the filter of the last step: the sharpest of the usual
// choices without visible ringing, and what the reference implementation
// (imaging.Lanczos) uses, so the two differ in method, not in taste.
var lanczos3 = filter{3, func(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x >= 3 {
		return 0
	}
	return sinc(x) * sinc(x/3)
}}

// triangle interpolates linearly; it converts chroma subsampling, where
// the factors are 2 or less and sharpness does not matter.
var triangle = filter{1, func(x float64) float64 {
	if x < 0 {
		x = -x
	}
	return max(0, 1-x)
}}

// weightBits is the fixed-point precision of kernel weights: 14 bits keep
// rounding error far below one 8-bit step while sums of up to a few
// hundred taps of 255 still fit an int32.
const weightBits = 14

// kernel holds, for each of dstN outputs along one axis, n consecutive
// source samples starting at start[i] and their weights (summing to
// 1<<weightBits).
type kernel struct {
	n       int
	start   []int
	weights []int32
}

// newKernel resamples srcN samples to dstN, where output i is centred on
// source coordinate (i+0.5)·scale + offset (sample j covers [j, j+1)).
// Like imaging and Pillow, it widens the filter by the scale when
// shrinking, and weights near the edges are renormalised over the samples
// that exist.
func newKernel(srcN, dstN int, scale, offset float64, f filter) kernel {
	stretch := max(scale, 1)
	radius := f.support * stretch
	n := min(int(math.Ceil(radius))*2+1, srcN)
	k := kernel{n: n, start: make([]int, dstN), weights: make([]int32, dstN*n)}
	ws := make([]float64, 0, n+2)
	for i := range dstN {
		c := (float64(i)+0.5)*scale + offset
		lo := max(int(math.Floor(c-radius)), 0)
		hi := min(int(math.Ceil(c+radius)), srcN-1)
		ws = ws[:0]
		var sum float64
		for j := lo; j <= hi; j++ {
			w := f.at((float64(j) + 0.5 - c) / stretch)
			ws = append(ws, w)
			sum += w
		}
		// Trim zero weights at both ends so the taps fit in n.
		for len(ws) > 0 && ws[0] == 0 {
			ws, lo = ws[1:], lo+1
		}
		for len(ws) > 0 && ws[len(ws)-1] == 0 {
			ws = ws[:len(ws)-1]
		}
		for len(ws) > n { // rounding at the support's edge: drop the lesser end
			if math.Abs(ws[0]) < math.Abs(ws[len(ws)-1]) {
				sum -= ws[0]
				ws, lo = ws[1:], lo+1
			} else {
				sum -= ws[len(ws)-1]
				ws = ws[:len(ws)-1]
			}
		}
		if len(ws) == 0 || sum == 0 { // far outside the source: nearest sample
			lo = min(max(int(c), 0), srcN-1)
			ws, sum = append(ws[:0], 1), 1
		}
		start := min(lo, srcN-n)
		k.start[i] = start
		row := k.weights[i*n : i*n+n]
		var total, bestQ int32
		best := 0
		for j, w := range ws {
			q := int32(math.Round(w / sum * (1 << weightBits)))
			row[lo-start+j] = q
			total += q
			if q > bestQ {
				best, bestQ = lo-start+j, q
			}
		}
		row[best] += 1<<weightBits - total // rounding error goes to the largest tap
	}
	return k
}

func clamp8(v int32) uint8 {
	v = (v + 1<<(weightBits-1)) >> weightBits
	return uint8(min(max(v, 0), 255))
}

// resample filters src into dst with ky down the columns and then kx
// along the rows. The column pass goes first because its inner loop runs
// over contiguous samples with one weight (about twice the speed per tap
// of the row pass, whose inner loop is the taps), so it should be the pass
// over the larger image. It covers only the source columns some output
// needs, so a crop costs what the output needs, not what the source has.
func resample(dst, src plane, kx, ky kernel, workers int) {
	colLo, colHi := kx.start[0], kx.start[len(kx.start)-1]+kx.n
	tmp := newPlane(colHi-colLo, dst.h)
	parallel(dst.h, workers, func(lo, hi int) {
		acc := make([]int32, tmp.w)
		for y := lo; y < hi; y++ {
			clear(acc)
			w := ky.weights[y*ky.n : y*ky.n+ky.n]
			for i, wi := range w {
				if wi == 0 {
					continue
				}
				s := src.row(ky.start[y] + i)[colLo:colHi]
				s = s[:len(acc)]
				for x, v := range s {
					acc[x] += wi * int32(v)
				}
			}
			d := tmp.row(y)
			for x, v := range acc {
				d[x] = clamp8(v)
			}
		}
	})
	parallel(dst.h, workers, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			s := tmp.row(y)
			d := dst.row(y)
			for x := range d {
				w := kx.weights[x*kx.n : x*kx.n+kx.n]
				start := kx.start[x] - colLo
				p := s[start : start+len(w)]
				var sum int32
				for i, wi := range w {
					sum += wi * int32(p[i])
				}
				d[x] = clamp8(sum)
			}
		}
	})
}
