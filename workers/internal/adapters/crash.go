package adapters

import (
	"bytes"
	"context"
	"os"
	"syscall"

	"pixshare/workers/internal/domain"
)

// CrashingRenderer is a test-only fault hook (THUMBNAIL_TEST_CRASH_MARKER):
// a picture whose bytes hold Marker kills the process with SIGKILL when it
// is rendered, as the kernel's OOM killer would, so end-to-end tests can
// check that poison ends without needing a real out-of-memory kill.
// Everything else goes to Renderer unchanged.
type CrashingRenderer struct {
	Renderer
	Marker []byte
}

// Render implements app.Renderer.
func (c CrashingRenderer) Render(ctx context.Context, original []byte, emit func(domain.Rendition)) error {
	c.crashOn(original)
	return c.Renderer.Render(ctx, original, emit)
}

// RenderAvatar implements app.AvatarRenderer.
func (c CrashingRenderer) RenderAvatar(ctx context.Context, original []byte) ([]domain.Rendition, error) {
	c.crashOn(original)
	return c.Renderer.RenderAvatar(ctx, original)
}

func (c CrashingRenderer) crashOn(original []byte) {
	if len(c.Marker) > 0 && bytes.Contains(original, c.Marker) {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
