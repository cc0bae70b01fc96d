package media_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"pixshare/contracts/media"
)

// FuzzInspect feeds arbitrary bytes to Inspect. It must never panic, never
// allocate more than a small bound (whatever a header claims), fail only
// with the package's errors, and accept only pictures within the limit
// whose format is what Sniff says.
//
//	go test -fuzz FuzzInspect ./media
func FuzzInspect(f *testing.F) {
	// The committed corpus in testdata/fuzz/FuzzInspect holds hand-made
	// headers; the fixtures' first kilobytes add real ones.
	entries, err := os.ReadDir(photos)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if data, err := os.ReadFile(filepath.Join(photos, e.Name())); err == nil {
			f.Add(data[:min(len(data), 1024)])
		}
	}
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		info, err := media.Inspect(bytes.NewReader(data), limit)
		runtime.ReadMemStats(&after)
		// Decoder state is a few KiB; 1 MiB plus the input's size leaves
		// room for noise, and is far below any pixel buffer of a header
		// that passed (or failed) the limit.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20+uint64(len(data)) {
			t.Errorf("Inspect allocated %d bytes for %d bytes of input", alloc, len(data))
		}
		if err != nil {
			if !errors.Is(err, media.ErrUnsupportedFormat) && !errors.Is(err, media.ErrTooManyPixels) && !errors.Is(err, media.ErrCorrupt) {
				t.Errorf("Inspect error %v matches none of the package's errors", err)
			}
			return
		}
		if info.Width <= 0 || info.Height <= 0 || int64(info.Width)*int64(info.Height) > limit {
			t.Errorf("Inspect accepted %dx%d with a limit of %d pixels", info.Width, info.Height, limit)
		}
		if sniffed, err := media.Sniff(data[:min(len(data), media.SniffLen)]); err != nil || sniffed != info.Format {
			t.Errorf("Inspect says %s, Sniff says %s, %v", info.Format, sniffed, err)
		}
	})
}
