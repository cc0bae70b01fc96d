package adapters

import (
	"context"

	"pixshare/contracts/media"
	"pixshare/workers/internal/adapters/thumbnail"
	"pixshare/workers/internal/domain"
)

// Renderer makes renditions with the image pipeline: a post's, and a
// user's square avatar sizes.
type Renderer struct{ opts thumbnail.Options }

// NewRenderer returns a Renderer with opts.
func NewRenderer(opts thumbnail.Options) Renderer { return Renderer{opts: opts} }

// Render implements app.Renderer with thumbnail.GenerateEach (which calls
// emit one rendition at a time, stricter than the port asks).
func (r Renderer) Render(ctx context.Context, original []byte, emit func(domain.Rendition)) error {
	return thumbnail.GenerateEach(ctx, original, r.opts, func(m thumbnail.Rendition) {
		emit(domain.Rendition{Name: m.Name, Width: m.Width, Height: m.Height, JPEG: m.JPEG})
	})
}

// avatarSizes are the square avatar sizes (contracts/media names them).
var avatarSizes = []thumbnail.Size{
	{Name: media.AvatarThumb, Width: 150, Height: 150, Crop: true},
	{Name: media.AvatarSmall, Width: 320, Height: 320, Crop: true},
	{Name: media.AvatarMedium, Width: 640, Height: 640, Crop: true},
}

// RenderAvatar implements app.AvatarRenderer: the square sizes only (the
// full-size picture is not kept).
func (r Renderer) RenderAvatar(ctx context.Context, original []byte) ([]domain.Rendition, error) {
	opts := r.opts
	opts.Sizes = avatarSizes
	made, err := thumbnail.Generate(ctx, original, opts)
	if err != nil {
		return nil, err
	}
	var out []domain.Rendition
	for _, m := range made {
		if m.Name == thumbnail.OriginalName {
			continue
		}
		out = append(out, domain.Rendition{Name: m.Name, Width: m.Width, Height: m.Height, JPEG: m.JPEG})
	}
	return out, nil
}

// Cost implements app.Renderer: MemoryCost with the default sizes (an
// upper bound for the avatar sizes too, which are smaller).
func (r Renderer) Cost(original []byte) (int64, error) {
	return thumbnail.MemoryCost(original, r.opts.MaxPixels)
}
