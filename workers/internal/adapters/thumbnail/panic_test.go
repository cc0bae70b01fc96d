package thumbnail

import (
	"context"
	"errors"
	"image"
	"image/color"
	"slices"
	"sync"
	"testing"
)

// panicky is an image whose pixels cannot be read: encoding it panics.
type panicky struct{}

func (panicky) ColorModel() color.Model { return color.RGBAModel }
func (panicky) Bounds() image.Rectangle { return image.Rect(0, 0, 16, 16) }
func (panicky) At(x, y int) color.Color { panic("no pixels here") }

// TestEncodersRecover: a panic on an encoder goroutine becomes Generate's
// error (ErrCorrupt), and the other renditions still finish.
func TestEncodersRecover(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		emitted []string
	)
	e := newEncoders(context.Background(), DefaultQuality, 2, 1, func(r Rendition) {
		mu.Lock()
		defer mu.Unlock()
		if r.JPEG != nil {
			emitted = append(emitted, r.Name)
		}
	})
	e.start("bad", panicky{})
	e.start("good", image.NewGray(image.Rect(0, 0, 16, 16)))
	err := e.wait()
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wait() = %v, want ErrCorrupt", err)
	}
	if !slices.Equal(emitted, []string{"good"}) {
		t.Errorf("emitted %q, want only the rendition that could be encoded", emitted)
	}
}
