package phototest

import (
	"bytes"
	"image/jpeg"
	"testing"
)

func TestJPEGDecodesAtTheAskedSizeAndLooksLikeAPhoto(t *testing.T) {
	t.Parallel()
	b, err := JPEG(400, 300, 1, 90)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a JPEG: %v", err)
	}
	if s := img.Bounds().Size(); s.X != 400 || s.Y != 300 {
		t.Fatalf("size %v, want 400x300", s)
	}
	// A camera JPEG at quality 90 takes a few bits per pixel; a flat or
	// smooth picture would take a fraction of one.
	if bpp := float64(8*len(b)) / (400 * 300); bpp < 1.5 {
		t.Fatalf("%.2f bits per pixel: too smooth to stand for a photo", bpp)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := Render(64, 48, 9), Render(64, 48, 9)
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Fatal("same seed, different pictures")
	}
	if c := Render(64, 48, 10); bytes.Equal(a.Pix, c.Pix) {
		t.Fatal("different seeds, same picture")
	}
}
