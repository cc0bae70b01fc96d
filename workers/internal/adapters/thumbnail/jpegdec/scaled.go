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
// hold: libjpeg's scaled decoding (jidctred.c, jidctint.c) does the same.
// In 2D the factor is ¼, and F(u, v) sits at b[8v+u] (natural order).

// idctScaled replaces the top-left n×n of b (dequantized coefficients) by
// n×n samples, level-shifted like idct's output (pixel value − 128), for
// n from 1 to 7.
func idctScaled(b *block, n int) {
	switch n {
	case 1:
		// ¼ · ½ · F(0,0): the block's mean.
		b[0] = (b[0] + 4) >> 3
		return
	case 2:
		// Every C(u)·cos term is ±1/√2, so each sample is
		// (F00 ± F01 ± F10 ± F11) / 8.
		f00, f01, f10, f11 := b[0], b[1], b[8], b[9]
		b[0] = (f00 + f01 + f10 + f11 + 4) >> 3
		b[1] = (f00 - f01 + f10 - f11 + 4) >> 3
		b[8] = (f00 + f01 - f10 - f11 + 4) >> 3
		b[9] = (f00 - f01 - f10 + f11 + 4) >> 3
		return
	}
	// Separable, in int64 so that no coefficient a (hostile) quantisation
	// table allows can overflow mid-sum. Most blocks of a photo have few
	// non-zero coefficients: a block with its DC alone is flat, and an
	// all-zero row of coefficients adds nothing.
	ac := false
	for v := range n {
		for u := range n {
			if (u != 0 || v != 0) && b[8*v+u] != 0 {
				ac = true
			}
		}
	}
	if !ac {
		dc := (b[0] + 4) >> 3
		for y := range n {
			for x := range n {
				b[8*y+x] = dc
			}
		}
		return
	}
	t := &idctTables[n]
	var rows [8][8]int64 // rows[v][x]: the horizontal pass
	var zero [8]bool
	for v := range n {
		zero[v] = true
		for u := range n {
			if b[8*v+u] != 0 {
				zero[v] = false
			}
		}
		if zero[v] {
			continue
		}
		for x := range n {
			var s int64
			for u := range n {
				s += t[x][u] * int64(b[8*v+u])
			}
			rows[v][x] = s
		}
	}
	const shift = 2*idctBits + 2 // the two tables, and ¼
	for y := range n {
		for x := range n {
			var s int64
			for v := range n {
				if !zero[v] {
					s += t[y][v] * rows[v][x]
				}
			}
			b[8*y+x] = int32((s + 1<<(shift-1)) >> shift)
		}
	}
}

// idctBits is the fixed-point precision of idctTables: 12 bits keep the
// error of a sample far below one level.
const idctBits = 12

// idctTables[n][x][u] is C(u)·cos((2x+1)uπ/2n) in fixed point, for the
// n-point IDCTs (n from 3 to 7; 1 and 2 need no table). Read-only after
// package initialisation, like unzig.
var idctTables = func() (t [8][8][8]int64) {
	for n := 3; n < 8; n++ {
		for x := range n {
			for u := range n {
				c := math.Cos(float64(2*x+1) * float64(u) * math.Pi / float64(2*n))
				if u == 0 {
					c = 1 / math.Sqrt2
				}
				t[n][x][u] = int64(math.Round(c * (1 << idctBits)))
			}
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
