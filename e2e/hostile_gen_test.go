package e2e

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// Crafted files of the hostile-load suite, made once per test binary.

// deepPNGSide is the side of the 16-bit PNG: 6300² = 39.69 MP, under the
// 40 MP upload limit, and 8 bytes a pixel (RGBA, 16 bits a channel) once
// decoded: about 318 MB from a file of a few hundred KB.
const deepPNGSide = 6300

var deepIDAT = sync.OnceValues(func() ([]byte, error) {
	// All-zero rows (filter byte 0, then zero samples): deflate shrinks
	// them about 800-fold. BestSpeed makes it in seconds on a slow machine.
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	if err != nil {
		return nil, err
	}
	row := make([]byte, 1+deepPNGSide*8)
	for range deepPNGSide {
		if _, err := zw.Write(row); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
})

// deepPNG is a valid transparent 16-bit RGBA PNG of deepPNGSide² pixels;
// tag goes into a tEXt chunk so that files of different tags differ.
func deepPNG(t *testing.T, tag string) []byte {
	t.Helper()
	idat, err := deepIDAT()
	if err != nil {
		t.Fatal(err)
	}
	out := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
		start := len(out)
		out = append(out, typ...)
		out = append(out, data...)
		out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, deepPNGSide)
	ihdr = binary.BigEndian.AppendUint32(ihdr, deepPNGSide)
	ihdr = append(ihdr, 16, 6, 0, 0, 0) // depth 16, RGBA, deflate, no filter method, no interlace
	chunk("IHDR", ihdr)
	chunk("tEXt", append([]byte("Comment\x00"), tag...))
	chunk("IDAT", idat)
	chunk("IEND", nil)
	return out
}

var noiseJPEGs sync.Map // max bytes → []byte

// noiseJPEGOf is a JPEG of random pixels at quality 100, as large as fits
// in maxBytes: noise does not compress, so the file (and the clean
// original the pipeline keeps, which is the upload stripped losslessly)
// is really that large, unlike padding, which stripping drops.
// It returns nil if no attempt fits.
func noiseJPEGOf(maxBytes int) []byte {
	if b, ok := noiseJPEGs.Load(maxBytes); ok {
		return b.([]byte)
	}
	// Quality-100 noise takes about 2 bytes a pixel with 4:2:0 chroma.
	pixels := float64(maxBytes) / 2.1
	for range 5 {
		w := int(math.Sqrt(pixels * 4 / 3))
		h := w * 3 / 4
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
		for i := 0; i+8 <= len(img.Pix); i += 8 {
			binary.LittleEndian.PutUint64(img.Pix[i:], r.Uint64())
		}
		for i := 3; i < len(img.Pix); i += 4 {
			img.Pix[i] = 255
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
			return nil
		}
		if buf.Len() <= maxBytes {
			noiseJPEGs.Store(maxBytes, buf.Bytes())
			return buf.Bytes()
		}
		pixels *= float64(maxBytes) / float64(buf.Len()) * 0.98
	}
	return nil
}
