package thumbnail

import (
	"bytes"
	"context"
	"image"

	"pixshare/contracts/media"
)

// RenderImages runs Generate's decoding, orientation and resizing without
// the JPEG encoder, so tests can judge the geometry alone. The images are
// upright.
func RenderImages(data []byte, sizes []Size) ([]image.Image, error) {
	info, err := media.Inspect(bytes.NewReader(data), DefaultMaxPixels)
	if err != nil {
		return nil, err
	}
	o := readOrientation(data, info.Format)
	uw, uh := upright(info.Width, info.Height, o)
	targets := make([]target, len(sizes))
	for i, s := range sizes {
		t := plan(s, uw, uh)
		t.w, t.h = upright(t.w, t.h, o)
		targets[i] = t
	}
	n := 8
	if info.Format == media.JPEG {
		n = jpegBlockSize(info.Width, info.Height, targets)
	}
	m, err := decode(data, info, n)
	if err != nil {
		return nil, err
	}
	out := make([]image.Image, len(sizes))
	err = renderSizes(context.Background(), m, targets, func(i int, img image.Image) { out[i] = orient(img, o) })
	return out, err
}
