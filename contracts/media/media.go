// Package media validates uploaded pictures before anything is stored: it
// names the real format from the file's magic bytes and reads only the
// image header, so that a hostile upload (wrong type, pixel bomb, broken
// header) is refused cheaply and before any pixel memory is allocated.
package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"
)

// Format is an accepted picture format, named as in a MIME subtype.
type Format string

// The accepted formats. Anything else is refused with ErrUnsupportedFormat.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	GIF  Format = "gif"
	WebP Format = "webp"
)

// MIMEType returns the content type to store and serve the original with.
func (f Format) MIMEType() string { return "image/" + string(f) }

// The errors of this package. Callers map them with errors.Is: the post
// service answers 415 for ErrUnsupportedFormat and 422 for the other two.
var (
	ErrUnsupportedFormat = errors.New("unsupported image format")
	ErrTooManyPixels     = errors.New("image has too many pixels")
	ErrCorrupt           = errors.New("corrupt image")
)

// SniffLen is how many leading bytes Sniff needs to recognise every format;
// fewer bytes are never enough, so a shorter head is unsupported.
const SniffLen = 16

// Sniff names the format from the magic bytes at the start of the file and
// nothing else: the file name and the client's Content-Type are not trusted,
// and a file that starts like anything else (HTML, SVG, PDF, BMP, HEIC, a
// polyglot with an image further in) is refused.
func Sniff(head []byte) (Format, error) {
	switch {
	case len(head) >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		return JPEG, nil
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, nil
	case bytes.HasPrefix(head, []byte("GIF87a")) || bytes.HasPrefix(head, []byte("GIF89a")):
		return GIF, nil
	case len(head) >= 16 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP" && isWebPChunk(head[12:16]):
		// RIFF also wraps WAV and AVI: the first chunk must be a WebP bitstream.
		return WebP, nil
	}
	return "", fmt.Errorf("sniffing %d bytes: %w", min(len(head), SniffLen), ErrUnsupportedFormat)
}

func isWebPChunk(fourCC []byte) bool {
	switch string(fourCC) {
	case "VP8 ", "VP8L", "VP8X":
		return true
	}
	return false
}

// Info is what Inspect learns from a header.
type Info struct {
	Format Format
	// Width and Height are the stored dimensions (before any EXIF rotation,
	// which swaps them but does not change the pixel count).
	Width, Height int
}

// Inspect sniffs the format and reads the image header, never the pixels.
// It refuses images whose width×height exceeds maxPixels with
// ErrTooManyPixels, so a decompression bomb (a few hundred bytes declaring
// 40000×40000) is stopped here in microseconds. An unreadable header or a
// non-positive dimension is ErrCorrupt. An error from r itself (not a short
// or malformed file) is returned wrapped, matching none of the sentinels,
// because it says nothing about the upload.
func Inspect(r io.Reader, maxPixels int64) (Info, error) {
	rr := &errReader{r: r}
	br := bufio.NewReaderSize(rr, 512)
	head, _ := br.Peek(24) // A short read just makes a short head.
	if rr.err != nil {
		return Info{}, fmt.Errorf("reading image header: %w", rr.err)
	}
	format, err := Sniff(head)
	if err != nil {
		return Info{}, err
	}
	if format == PNG && len(head) >= 24 && string(head[12:16]) == "IHDR" {
		// image/png refuses dimensions whose byte count would overflow an
		// int as an unsupported feature; they are simply too many pixels.
		w, h := binary.BigEndian.Uint32(head[16:]), binary.BigEndian.Uint32(head[20:])
		if int64(w)*int64(h) > maxPixels {
			return Info{}, fmt.Errorf("png header declares %dx%d, more than %d pixels: %w", w, h, maxPixels, ErrTooManyPixels)
		}
	}
	// The format's own DecodeConfig, not image.DecodeConfig: the decoder
	// must be the one for the sniffed format, and this needs no global
	// format registry.
	var cfg image.Config
	switch format {
	case JPEG:
		cfg, err = jpeg.DecodeConfig(br)
	case PNG:
		cfg, err = png.DecodeConfig(br)
	case GIF:
		cfg, err = gif.DecodeConfig(br)
	case WebP:
		cfg, err = webp.DecodeConfig(br)
	}
	if rr.err != nil {
		return Info{}, fmt.Errorf("reading %s header: %w", format, rr.err)
	}
	if err != nil {
		if errors.As(err, new(jpeg.UnsupportedError)) || errors.As(err, new(png.UnsupportedError)) {
			// A real JPEG or PNG using a feature the decoders lack
			// (arithmetic coding, 12-bit samples): the thumbnailer could
			// not process it either.
			return Info{}, fmt.Errorf("reading %s header: %v: %w", format, err, ErrUnsupportedFormat)
		}
		return Info{}, fmt.Errorf("reading %s header: %v: %w", format, err, ErrCorrupt)
	}
	info := Info{Format: format, Width: cfg.Width, Height: cfg.Height}
	if info.Width <= 0 || info.Height <= 0 {
		return Info{}, fmt.Errorf("%s header declares %dx%d: %w", format, info.Width, info.Height, ErrCorrupt)
	}
	// Both factors are below 2^31 (every decoder reads them from at most 31
	// bits), so the product cannot overflow int64.
	if int64(info.Width)*int64(info.Height) > maxPixels {
		return Info{}, fmt.Errorf("%s header declares %dx%d, more than %d pixels: %w",
			format, info.Width, info.Height, maxPixels, ErrTooManyPixels)
	}
	return info, nil
}

// errReader remembers the first error of the underlying reader other than
// io.EOF, so that Inspect can tell a failing connection from a short file:
// the decoders turn both into a format error.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}
