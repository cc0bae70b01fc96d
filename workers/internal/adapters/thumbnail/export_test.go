package thumbnail

import (
	"bytes"
	"context"
	"image"

	"pixshare/contracts/media"
)

// RenderPlanes runs Generate's decoding and resampling without the JPEG
// encoder, so tests can judge the resampling alone. The planes are in
// stored orientation.
func RenderPlanes(data []byte, sizes []Size) ([]*image.YCbCr, error) {
	info, err := media.Inspect(bytes.NewReader(data), DefaultMaxPixels)
	if err != nil {
		return nil, err
	}
	m, err := decode(data, info, 2)
	if err != nil {
		return nil, err
	}
	out := make([]*image.YCbCr, len(sizes))
	err = renderSizes(context.Background(), m, readOrientation(data, info.Format), sizes, 2, func(i int, img *image.YCbCr) error {
		out[i] = img
		return nil
	})
	return out, err
}
