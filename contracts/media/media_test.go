package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"pixshare/contracts/media"
)

const photos = "../../testdata/photos"

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(photos, name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// pngWithIHDR is a PNG signature and an IHDR chunk (8-bit RGB) declaring
// w×h, with a correct CRC: a header and nothing else.
func pngWithIHDR(w, h uint32) []byte {
	ihdr := []byte("IHDR")
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	out := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d")
	out = append(out, ihdr...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(ihdr))
}

// jpegSOF is SOI, a SOF segment of the given type declaring w×h with three
// components and the given sample precision, and the SOS segment header
// (image/jpeg reads up to SOS for a header).
func jpegSOF(marker byte, precision uint8, w, h uint16) []byte {
	out := []byte{0xFF, 0xD8, 0xFF, marker, 0x00, 17, precision}
	out = binary.BigEndian.AppendUint16(out, h)
	out = binary.BigEndian.AppendUint16(out, w)
	out = append(out, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	return append(out, 0xFF, 0xDA, 0x00, 0x0C, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0)
}

func TestInspect(t *testing.T) {
	t.Parallel()
	const limit = 50_000_000
	gifHeader := func(w, h uint16) []byte {
		out := []byte("GIF89a")
		out = binary.LittleEndian.AppendUint16(out, w)
		out = binary.LittleEndian.AppendUint16(out, h)
		return append(out, 0, 0, 0, 0x3B)
	}
	tests := []struct {
		name   string
		data   []byte
		limit  int64
		format media.Format
		w, h   int
		err    error
	}{
		// The fixtures.
		{"landscape.jpg", fixture(t, "landscape.jpg"), limit, media.JPEG, 1600, 1200, nil},
		// Stored dimensions: the EXIF rotation is the thumbnailer's business.
		{"portrait-exif6.jpg", fixture(t, "portrait-exif6.jpg"), limit, media.JPEG, 1200, 900, nil},
		{"small.png", fixture(t, "small.png"), limit, media.PNG, 100, 80, nil},
		{"alpha.png", fixture(t, "alpha.png"), limit, media.PNG, 400, 300, nil},
		{"anim.gif", fixture(t, "anim.gif"), limit, media.GIF, 200, 150, nil},
		{"photo.webp (lossless)", fixture(t, "photo.webp"), limit, media.WebP, 400, 300, nil},
		{"photo-lossy.webp", fixture(t, "photo-lossy.webp"), limit, media.WebP, 400, 300, nil},
		// Only the header is read: a truncated body is the thumbnailer's to find.
		{"corrupt.jpg", fixture(t, "corrupt.jpg"), limit, media.JPEG, 640, 480, nil},
		{"bomb.png", fixture(t, "bomb.png"), limit, "", 0, 0, media.ErrTooManyPixels},
		{"not-an-image.txt", fixture(t, "not-an-image.txt"), limit, "", 0, 0, media.ErrUnsupportedFormat},

		// The pixel limit is inclusive.
		{"exactly the limit", pngWithIHDR(1000, 1000), 1_000_000, media.PNG, 1000, 1000, nil},
		{"one pixel over", pngWithIHDR(1000, 1000), 999_999, "", 0, 0, media.ErrTooManyPixels},
		{"JPEG bomb", jpegSOF(0xC0, 8, 65000, 65000), limit, "", 0, 0, media.ErrTooManyPixels},
		{"GIF bomb", gifHeader(65535, 65535), limit, "", 0, 0, media.ErrTooManyPixels},
		{"widest PNG", pngWithIHDR(1<<31-1, 1<<31-1), limit, "", 0, 0, media.ErrTooManyPixels},

		// Not a format we take, whatever follows.
		{"empty", nil, limit, "", 0, 0, media.ErrUnsupportedFormat},
		{"SVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`), limit, "", 0, 0, media.ErrUnsupportedFormat},
		{"SVG with XML declaration", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`), limit, "", 0, 0, media.ErrUnsupportedFormat},
		{"BMP", append([]byte("BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00"), make([]byte, 40)...), limit, "", 0, 0, media.ErrUnsupportedFormat},
		{"HEIC", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), limit, "", 0, 0, media.ErrUnsupportedFormat},
		{"PDF", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), limit, "", 0, 0, media.ErrUnsupportedFormat},
		{"HTML hiding a PNG", append([]byte("<html><script>alert(1)</script>"), fixture(t, "small.png")...), limit, "", 0, 0, media.ErrUnsupportedFormat},
		{"PNG a byte in", append([]byte{0}, fixture(t, "small.png")...), limit, "", 0, 0, media.ErrUnsupportedFormat},
		{"RIFF WAVE", []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00"), limit, "", 0, 0, media.ErrUnsupportedFormat},
		{"RIFF WEBP with an unknown chunk", []byte("RIFF\x24\x00\x00\x00WEBPABCD\x10\x00\x00\x00"), limit, "", 0, 0, media.ErrUnsupportedFormat},
		{"half a PNG signature", []byte("\x89PNG"), limit, "", 0, 0, media.ErrUnsupportedFormat},
		{"arithmetic-coded JPEG", jpegSOF(0xC9, 8, 100, 100), limit, "", 0, 0, media.ErrUnsupportedFormat},
		{"12-bit JPEG", jpegSOF(0xC1, 12, 100, 100), limit, "", 0, 0, media.ErrUnsupportedFormat},

		// A format we take, with a broken header.
		{"JPEG magic only", []byte{0xFF, 0xD8, 0xFF}, limit, "", 0, 0, media.ErrCorrupt},
		{"JPEG cut in its SOF", jpegSOF(0xC0, 8, 100, 100)[:12], limit, "", 0, 0, media.ErrCorrupt},
		{"JPEG of height 0", jpegSOF(0xC0, 8, 100, 0), limit, "", 0, 0, media.ErrCorrupt},
		{"PNG signature only", []byte("\x89PNG\r\n\x1a\n"), limit, "", 0, 0, media.ErrCorrupt},
		{"PNG cut in its IHDR", pngWithIHDR(10, 10)[:20], limit, "", 0, 0, media.ErrCorrupt},
		{"PNG of width 0", pngWithIHDR(0, 10), limit, "", 0, 0, media.ErrCorrupt},
		{"PNG with a bad CRC", append(pngWithIHDR(10, 10)[:29], 0, 0, 0, 0), limit, "", 0, 0, media.ErrCorrupt},
		{"GIF magic only", []byte("GIF89a"), limit, "", 0, 0, media.ErrCorrupt},
		{"GIF of 0×0", gifHeader(0, 0), limit, "", 0, 0, media.ErrCorrupt},
		{"WebP cut after its chunk header", fixture(t, "photo-lossy.webp")[:20], limit, "", 0, 0, media.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			info, err := media.Inspect(bytes.NewReader(tt.data), tt.limit)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Inspect = %+v, %v; want %v", info, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			want := media.Info{Format: tt.format, Width: tt.w, Height: tt.h}
			if info != want {
				t.Errorf("Inspect = %+v, want %+v", info, want)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		head   string
		format media.Format
	}{
		{"\xFF\xD8\xFF\xE0", media.JPEG},
		{"\x89PNG\r\n\x1a\n", media.PNG},
		{"GIF87a", media.GIF},
		{"GIF89a", media.GIF},
		{"RIFF\x00\x00\x00\x00WEBPVP8 ", media.WebP},
		{"RIFF\x00\x00\x00\x00WEBPVP8L", media.WebP},
		{"RIFF\x00\x00\x00\x00WEBPVP8X", media.WebP},
		{"RIFF\x00\x00\x00\x00WEBP", ""},   // no chunk yet
		{"\xFF\xD8", ""},                   // SOI without a marker after it
		{"GIF88a", ""},                     // no such version
		{"\x89PNG\r\n\x1a\x0a"[:7], ""},    // one byte short
		{"BM", ""},                         // BMP
		{"II*\x00", ""},                    // TIFF
		{"\x00\x00\x00\x1cftypavif", ""},   // AVIF
		{"<svg", ""},                       // SVG
		{"hello, world", ""},               // text
		{"\xEF\xBB\xBF<svg", ""},           // SVG after a UTF-8 BOM
		{" \xFF\xD8\xFF", ""},              // JPEG one byte in
		{"\x00\x00\x01\x00\x01\x00", ""},   // ICO
		{"\x1f\x8b\x08\x00\x00\x00", ""},   // gzip
		{"PK\x03\x04\x14\x00\x00\x00", ""}, // zip
	}
	for _, tt := range tests {
		got, err := media.Sniff([]byte(tt.head))
		if tt.format == "" {
			if !errors.Is(err, media.ErrUnsupportedFormat) {
				t.Errorf("Sniff(%q) = %q, %v; want ErrUnsupportedFormat", tt.head, got, err)
			}
			continue
		}
		if err != nil || got != tt.format {
			t.Errorf("Sniff(%q) = %q, %v; want %q", tt.head, got, err, tt.format)
		}
	}
}

// TestInspectReaderError: a failing reader is not the upload's fault, so
// the error must not map to 415 or 422.
func TestInspectReaderError(t *testing.T) {
	t.Parallel()
	broken := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(fixture(t, "landscape.jpg")[:100]), errReader{broken})
	_, err := media.Inspect(r, 1<<30)
	if !errors.Is(err, broken) {
		t.Fatalf("Inspect error %v, want it to wrap %v", err, broken)
	}
	for _, sentinel := range []error{media.ErrUnsupportedFormat, media.ErrTooManyPixels, media.ErrCorrupt} {
		if errors.Is(err, sentinel) {
			t.Errorf("Inspect error %v matches %v", err, sentinel)
		}
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestInspectBombAllocatesNoPixels: refusing the 40000×40000 bomb must not
// allocate pixel memory (4.8 GB); it costs a few kilobytes of decoder
// state. Not parallel, since it reads the process-wide allocation counter.
func TestInspectBombAllocatesNoPixels(t *testing.T) {
	bomb := fixture(t, "bomb.png")
	const runs = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		if _, err := media.Inspect(bytes.NewReader(bomb), 50_000_000); !errors.Is(err, media.ErrTooManyPixels) {
			t.Fatalf("Inspect(bomb.png) error %v, want ErrTooManyPixels", err)
		}
	}
	runtime.ReadMemStats(&after)
	if perRun := (after.TotalAlloc - before.TotalAlloc) / runs; perRun > 64<<10 {
		t.Errorf("Inspect(bomb.png) allocates %d bytes, want under 64 KiB", perRun)
	}
}

// BenchmarkInspectBomb shows the bomb is refused in microseconds.
func BenchmarkInspectBomb(b *testing.B) {
	bomb := fixture(b, "bomb.png")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := media.Inspect(bytes.NewReader(bomb), 50_000_000); !errors.Is(err, media.ErrTooManyPixels) {
			b.Fatal(err)
		}
	}
}
