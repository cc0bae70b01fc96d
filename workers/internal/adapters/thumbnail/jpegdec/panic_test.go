package jpegdec

import (
	"errors"
	"testing"
)

// TestReconstructorRecovers: a panic while reconstructing a block on one
// of the reconstruct goroutines (here: a decoder without a picture to
// store into) becomes a FormatError from wait, and the decoding goroutine
// can still hand over rows without blocking.
func TestReconstructorRecovers(t *testing.T) {
	d := &decoder{nComp: 3, blockSize: 8}
	r := d.startReconstructor(1)
	for range 10 {
		batch := r.next()
		r.rows <- append(batch, 0, 0, 0) // block (0, 0) of component 0, no coefficients
	}
	if err := r.wait(); !errors.As(err, new(FormatError)) {
		t.Fatalf("wait() = %v, want a FormatError", err)
	}
}

// TestProgressiveReconstructRecovers: the same for the goroutines that
// reconstruct a progressive picture at the end.
func TestProgressiveReconstructRecovers(t *testing.T) {
	d := &decoder{nComp: 1, blockSize: 8, width: 16, height: 16}
	d.comp[0].h, d.comp[0].v = 1, 1
	d.progCoeffs[0] = make([]block, 4)
	if err := d.reconstructProgressiveImage(); !errors.As(err, new(FormatError)) {
		t.Fatalf("reconstructProgressiveImage() = %v, want a FormatError", err)
	}
}
