package adapters

import (
	"context"

	"pixshare/workers/internal/adapters/thumbnail"
	"pixshare/workers/internal/domain"
)

// Renderer makes renditions with the image pipeline.
type Renderer struct{ opts thumbnail.Options }

// NewRenderer returns a Renderer with opts.
func NewRenderer(opts thumbnail.Options) Renderer { return Renderer{opts: opts} }

// Render implements app.Renderer.
func (r Renderer) Render(ctx context.Context, original []byte) ([]domain.Rendition, error) {
	made, err := thumbnail.Generate(ctx, original, r.opts)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Rendition, len(made))
	for i, m := range made {
		out[i] = domain.Rendition{Name: m.Name, Width: m.Width, Height: m.Height, JPEG: m.JPEG}
	}
	return out, nil
}
