package jpegenc

import "math"

// aanScale[k] is cos(k·π/16)·√2 (1 for k = 0): the factor by which the
// Arai–Agui–Nakajima DCT below leaves coefficient k scaled, folded into the
// quantisation multipliers instead of being divided out here.
var aanScale = func() (s [8]float32) {
	s[0] = 1
	for k := 1; k < 8; k++ {
		s[k] = float32(math.Cos(float64(k)*math.Pi/16) * math.Sqrt2)
	}
	return s
}()

// fdct is the AAN forward DCT in floating point (the algorithm of IJG's
// jfdctflt.c): 5 multiplications and 29 additions per 8 points, in place,
// rows then columns. Outputs are 8·aanScale[u]·aanScale[v] times the true
// coefficients.
func fdct(b *[64]float32) {
	for i := 0; i < 64; i += 8 {
		r := b[i : i+8 : i+8]
		r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] = fdct8(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7])
	}
	for i := range 8 {
		b[i], b[8+i], b[16+i], b[24+i], b[32+i], b[40+i], b[48+i], b[56+i] =
			fdct8(b[i], b[8+i], b[16+i], b[24+i], b[32+i], b[40+i], b[48+i], b[56+i])
	}
}

func fdct8(d0, d1, d2, d3, d4, d5, d6, d7 float32) (o0, o1, o2, o3, o4, o5, o6, o7 float32) {
	t0, t7 := d0+d7, d0-d7
	t1, t6 := d1+d6, d1-d6
	t2, t5 := d2+d5, d2-d5
	t3, t4 := d3+d4, d3-d4

	// Even part.
	t10, t13 := t0+t3, t0-t3
	t11, t12 := t1+t2, t1-t2
	o0, o4 = t10+t11, t10-t11
	z1 := (t12 + t13) * 0.707106781
	o2, o6 = t13+z1, t13-z1

	// Odd part.
	t10 = t4 + t5
	t11 = t5 + t6
	t12 = t6 + t7
	z5 := (t10 - t12) * 0.382683433
	z2 := 0.541196100*t10 + z5
	z4 := 1.306562965*t12 + z5
	z3 := t11 * 0.707106781
	z11, z13 := t7+z3, t7-z3
	o5, o3 = z13+z2, z13-z2
	o1, o7 = z11+z4, z11-z4
	return
}
