// Copyright 2026 The Pixshare authors. Use of this source code is governed
// by the BSD-style license in the LICENSE file.

package jpegdec

import "math"

// This file is the fork's own: the reduced inverse DCTs of DecodeScaled.
//
// The 8-point IDCT of T.81 (A.3.3) is
//
//	f(x) = ½ Σ_{u<8} C(u) F(u) cos((2x+1)uπ/16),   C(0) = 1/√2, else 1.
//
// Keeping the lowest n frequencies and evaluating the n-point IDCT
//
//	f'(x) = ½ Σ_{u<n} C(u) F(u) cos((2x+1)uπ/2n)
//
// gives n samples whose mean is the block's mean (½ C(0) F(0) either way)
// and whose detail is the block's own, band-limited to what n samples can
// hold: libjpeg's scaled decoding (jidctred.c) does the same. In 2D the
// factor is ¼, and F(u, v) sits at b[8v+u] (natural order).

// idctScaled replaces the top-left n×n of b (dequantized coefficients) by
// n×n samples, level-shifted like idct's output (pixel value − 128).
// n is 1, 2 or 4.
func idctScaled(b *block, n int) {
	switch n {
	case 1:
		// ¼ · ½ · F(0,0): the block's mean.
		b[0] = (b[0] + 4) >> 3
	case 2:
		// Every C(u)·cos term is ±1/√2, so each sample is
		// (F00 ± F01 ± F10 ± F11) / 8.
		f00, f01, f10, f11 := b[0], b[1], b[8], b[9]
		b[0] = (f00 + f01 + f10 + f11 + 4) >> 3
		b[1] = (f00 - f01 + f10 - f11 + 4) >> 3
		b[8] = (f00 + f01 - f10 - f11 + 4) >> 3
		b[9] = (f00 - f01 - f10 + f11 + 4) >> 3
	case 4:
		// Separable, in int64 so that no coefficient a (hostile)
		// quantisation table allows can overflow mid-sum.
		var rows [4][4]int64 // rows[v][x]: the horizontal pass
		for v := range 4 {
			for x := range 4 {
				var s int64
				for u := range 4 {
					s += idct4[x][u] * int64(b[8*v+u])
				}
				rows[v][x] = s
			}
		}
		const shift = 2*idct4Bits + 2 // the two tables, and ¼
		for y := range 4 {
			for x := range 4 {
				var s int64
				for v := range 4 {
					s += idct4[y][v] * rows[v][x]
				}
				b[8*y+x] = int32((s + 1<<(shift-1)) >> shift)
			}
		}
	}
}

// idct4Bits is the fixed-point precision of idct4: 12 bits keep the error
// of a sample far below one level.
const idct4Bits = 12

// idct4[x][u] is C(u)·cos((2x+1)uπ/8) in fixed point.
var idct4 = func() (t [4][4]int64) {
	for x := range 4 {
		for u := range 4 {
			c := math.Cos(float64(2*x+1) * float64(u) * math.Pi / 8)
			if u == 0 {
				c = 1 / math.Sqrt2
			}
			t[x][u] = int64(math.Round(c * (1 << idct4Bits)))
		}
	}
	return t
}()

// storeBlock level-shifts the top-left n×n samples of b by +128, clips them
// to [0, 255] and writes them to dst.
func storeBlock(dst []byte, stride int, b *block, n int) {
	for y := range n {
		row := dst[y*stride : y*stride+n]
		for x := range row {
			c := b[8*y+x]
			if c < -128 {
				c = 0
			} else if c > 127 {
				c = 255
			} else {
				c += 128
			}
			row[x] = uint8(c)
		}
	}
}
