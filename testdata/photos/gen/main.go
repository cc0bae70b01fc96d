// Command gen writes the picture fixtures of testdata/photos. There are no
// camera photos on the build machines, so it renders photo-like scenes
// (smooth gradients, 1/f texture, soft and hard edges, sensor-like grain)
// and writes them with the standard encoders, plus the hostile files the
// validators must refuse. The output is deterministic: run it again and
// git shows no change.
//
//	cd testdata/photos/gen && GOWORK=off go run .
//
// It is its own module (outside go.work) so that its WebP encoder never
// becomes a dependency of a service.
//
// photo-lossy.webp is not made here (no pure-Go lossy WebP encoder exists);
// it was made once from photo.webp with Debian's cwebp 1.2.4:
//
//	dwebp photo.webp -o /tmp/p.png && cwebp -q 80 -metadata none /tmp/p.png -o photo-lossy.webp
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/HugoSmits86/nativewebp"
)

func main() {
	out := flag.String("out", "..", "directory to write the fixtures to")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatal(err)
	}
}

func run(dir string) error {
	files := map[string]func() ([]byte, error){
		"landscape.jpg":      func() ([]byte, error) { return encodeJPEG(Photo(1600, 1200, 1), 82) },
		"portrait-exif6.jpg": portraitExif6,
		"small.png":          func() ([]byte, error) { return encodePNG(Photo(100, 80, 3)) },
		"alpha.png":          func() ([]byte, error) { return encodePNG(withAlpha(Photo(400, 300, 4))) },
		"anim.gif":           animatedGIF,
		"photo.webp":         func() ([]byte, error) { return encodeWebP(Photo(400, 300, 5)) },
		"corrupt.jpg":        truncatedJPEG,
		"not-an-image.txt":   func() ([]byte, error) { return []byte("This is a text file, not a picture.\n"), nil },
		"bomb.png":           func() ([]byte, error) { return pixelBomb(40000, 40000), nil },
	}
	for name, build := range files {
		data, err := build()
		if err != nil {
			return fmt.Errorf("making %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}

func encodeJPEG(m image.Image, quality int) ([]byte, error) {
	var b bytes.Buffer
	err := jpeg.Encode(&b, m, &jpeg.Options{Quality: quality})
	return b.Bytes(), err
}

func encodePNG(m image.Image) ([]byte, error) {
	var b bytes.Buffer
	err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, m)
	return b.Bytes(), err
}

func encodeWebP(m image.Image) ([]byte, error) {
	var b bytes.Buffer
	err := nativewebp.Encode(&b, m, nil)
	return b.Bytes(), err
}

// portraitExif6 stores a portrait scene the way a phone held upright does:
// the sensor's landscape pixels (1200×900) plus EXIF Orientation=6 ("rotate
// 90° clockwise to display"), with the camera and GPS tags that the served
// copies must not carry.
func portraitExif6() ([]byte, error) {
	upright := Photo(900, 1200, 2)
	w, h := upright.Bounds().Dy(), upright.Bounds().Dx()
	stored := image.NewNRGBA(image.Rect(0, 0, w, h))
	for sy := 0; sy < h; sy++ {
		for sx := 0; sx < w; sx++ {
			// Displaying rotates 90° clockwise: stored (sx, sy) lands on
			// upright (h-1-sy, sx).
			stored.SetNRGBA(sx, sy, upright.NRGBAAt(h-1-sy, sx))
		}
	}
	data, err := encodeJPEG(stored, 82)
	if err != nil {
		return nil, err
	}
	return insertAfterSOI(data, exifAPP1(6)), nil
}

// insertAfterSOI puts a marker segment right after the JPEG's SOI marker,
// where cameras write APP1.
func insertAfterSOI(jpegData, segment []byte) []byte {
	out := append([]byte{}, jpegData[:2]...)
	out = append(out, segment...)
	return append(out, jpegData[2:]...)
}

// exifAPP1 builds an APP1 Exif segment: a little-endian TIFF structure with
// IFD0 {Make, Model, Orientation, GPSInfo pointer} and a GPS IFD with
// latitude and longitude (52°22'12.3" N, 4°53'42.7" E).
func exifAPP1(orientation uint16) []byte {
	le := binary.LittleEndian
	type entry struct {
		tag, typ uint16
		count    uint32
		value    []byte // inline when ≤ 4 bytes, else stored after the IFD
	}
	ascii := func(s string) []byte { return append([]byte(s), 0) }
	rationals := func(v ...uint32) []byte {
		b := make([]byte, 0, 4*len(v))
		for _, x := range v {
			b = le.AppendUint32(b, x)
		}
		return b
	}
	// writeIFD lays out an IFD at offset off and its out-of-line values right after it.
	writeIFD := func(tiff []byte, entries []entry, next uint32) []byte {
		off := uint32(len(tiff))
		data := off + 2 + 12*uint32(len(entries)) + 4
		var extra []byte
		tiff = le.AppendUint16(tiff, uint16(len(entries)))
		for _, e := range entries {
			tiff = le.AppendUint16(tiff, e.tag)
			tiff = le.AppendUint16(tiff, e.typ)
			tiff = le.AppendUint32(tiff, e.count)
			if len(e.value) <= 4 {
				var v [4]byte
				copy(v[:], e.value)
				tiff = append(tiff, v[:]...)
			} else {
				tiff = le.AppendUint32(tiff, data+uint32(len(extra)))
				extra = append(extra, e.value...)
			}
		}
		tiff = le.AppendUint32(tiff, next)
		return append(tiff, extra...)
	}
	const (
		typeASCII    = 2
		typeShort    = 3
		typeLong     = 4
		typeRational = 5
	)
	camMake, camModel := ascii("Pixshare"), ascii("Fixture Camera 1")
	tiff := []byte("II*\x00")
	tiff = le.AppendUint32(tiff, 8)
	// IFD0 is 2+4*12+4 = 54 bytes at 8, then Make and Model; the GPS IFD follows.
	gpsOffset := uint32(8 + 54 + len(camMake) + len(camModel))
	tiff = writeIFD(tiff, []entry{
		{0x010F, typeASCII, uint32(len(camMake)), camMake},
		{0x0110, typeASCII, uint32(len(camModel)), camModel},
		{0x0112, typeShort, 1, le.AppendUint16(nil, orientation)},
		{0x8825, typeLong, 1, le.AppendUint32(nil, gpsOffset)},
	}, 0)
	if uint32(len(tiff)) != gpsOffset {
		panic("exifAPP1: GPS IFD offset miscomputed")
	}
	tiff = writeIFD(tiff, []entry{
		{0x0000, 1, 4, []byte{2, 3, 0, 0}}, // GPSVersionID, BYTE
		{0x0001, typeASCII, 2, ascii("N")},
		{0x0002, typeRational, 3, rationals(52, 1, 22, 1, 123, 10)},
		{0x0003, typeASCII, 2, ascii("E")},
		{0x0004, typeRational, 3, rationals(4, 1, 53, 1, 427, 10)},
	}, 0)
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(payload)+2))
	return append(seg, payload...)
}

// withAlpha makes the left third fully transparent, fades the middle third
// and draws an opaque disc, so compositing onto white shows.
func withAlpha(m *image.NRGBA) *image.NRGBA {
	b := m.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := m.NRGBAAt(x, y)
			switch third := x * 3 / b.Dx(); third {
			case 0:
				c.A = 0
			case 1:
				c.A = uint8(255 * (x - b.Dx()/3) / (b.Dx() / 3))
			}
			if dx, dy := x-b.Dx()/2, y-b.Dy()/2; dx*dx+dy*dy < 40*40 {
				c = color.NRGBA{200, 30, 30, 255}
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

// animatedGIF has three 200×150 frames of different colours; the first is
// mostly red with a transparent top-left corner, so a test can tell the
// first frame from the others and see the transparency on white.
func animatedGIF() ([]byte, error) {
	pal := append(color.Palette{color.Transparent}, palette.Plan9[1:]...)
	anim := &gif.GIF{}
	for i, base := range []color.NRGBA{{210, 40, 40, 255}, {40, 40, 210, 255}, {40, 210, 40, 255}} {
		frame := image.NewPaletted(image.Rect(0, 0, 200, 150), pal)
		for y := 0; y < 150; y++ {
			for x := 0; x < 200; x++ {
				shade := uint8((x + y) / 10)
				c := color.NRGBA{base.R - shade/2, base.G + shade/3, base.B, 255}
				if i == 0 && x < 50 && y < 40 {
					frame.SetColorIndex(x, y, 0)
					continue
				}
				frame.Set(x, y, c)
			}
		}
		anim.Image = append(anim.Image, frame)
		anim.Delay = append(anim.Delay, 20)
		anim.Disposal = append(anim.Disposal, gif.DisposalBackground)
	}
	var b bytes.Buffer
	err := gif.EncodeAll(&b, anim)
	return b.Bytes(), err
}

// truncatedJPEG is a photo cut off in the middle of its entropy-coded data,
// as an interrupted upload leaves it: the header is fine, the pixels are not.
func truncatedJPEG() ([]byte, error) {
	data, err := encodeJPEG(Photo(640, 480, 6), 85)
	if err != nil {
		return nil, err
	}
	return data[:len(data)*2/5], nil
}

// pixelBomb is a valid PNG header declaring w×h RGB pixels followed by the
// start of a zlib stream of zeros: a few hundred bytes that would need
// w×h×3 bytes (4.8 GB at 40000×40000) if anything decoded it.
func pixelBomb(w, h uint32) []byte {
	chunk := func(out []byte, typ string, data []byte) []byte {
		out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
		body := append([]byte(typ), data...)
		out = append(out, body...)
		return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
	}
	out := []byte("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB, deflate, no filter, no interlace
	out = chunk(out, "IHDR", ihdr)
	// zlib header, then a fixed-Huffman block of zero bytes: what a real bomb
	// repeats for megabytes.
	idat := []byte{0x78, 0x9c, 0x63, 0x60}
	idat = append(idat, bytes.Repeat([]byte{0x18, 0x05, 0xa3, 0x60, 0x14, 0x0c}, 40)...)
	out = chunk(out, "IDAT", idat)
	return chunk(out, "IEND", nil)
}

// Photo renders a w×h landscape-like scene with natural-image statistics:
// a sky gradient, ground with 1/f value-noise texture, soft-edged discs, a
// fence of thin sharp posts (to show ringing and aliasing) and per-pixel
// grain. The same (w, h, seed) always gives the same pixels.
func Photo(w, h int, seed uint64) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	scale := float32(w) / 1600
	var octaves []noise
	var amps []float32
	for i, step := 0, max(4, int(256*scale)); step >= 2 && i < 8; i, step = i+1, step/2 {
		octaves = append(octaves, newNoise(w, h, step, seed+uint64(i)*7919))
		amps = append(amps, 40*float32(math.Pow(0.62, float64(i))))
	}
	hue := newNoise(w, h, max(8, int(400*scale)), seed^0xABCDEF)
	horizon := newNoise(w, 1, max(8, int(120*scale)), seed^0x1234)
	type disc struct {
		cx, cy, r float32
		c         [3]float32
	}
	discs := []disc{
		{0.78 * float32(w), 0.22 * float32(h), 0.07 * float32(w), [3]float32{255, 240, 200}},
		{0.25 * float32(w), 0.62 * float32(h), 0.12 * float32(w), [3]float32{40, 90, 40}},
		{0.55 * float32(w), 0.70 * float32(h), 0.09 * float32(w), [3]float32{120, 60, 30}},
	}
	post := max(1, int(40*scale))
	postW := max(1, int(3*scale))
	for y := 0; y < h; y++ {
		hy := float32(y) / float32(h)
		for x := 0; x < w; x++ {
			var n float32
			for i, o := range octaves {
				n += amps[i] * o.at(x, y)
			}
			hz := 0.55*float32(h) + 0.06*float32(h)*horizon.at(x, 0)
			var r, g, b float32
			if float32(y) < hz {
				r, g, b = 110+90*hy, 150+80*hy, 230-20*hy
				n *= 0.25
			} else {
				t := hue.at(x, y)
				r, g, b = 90+40*t, 110+30*t, 50
			}
			for _, d := range discs {
				dx, dy := float32(x)-d.cx, float32(y)-d.cy
				dist := float32(math.Sqrt(float64(dx*dx+dy*dy))) - d.r
				if a := 0.5 - dist/(2*scale); a > 0 {
					a = min(a, 1)
					r, g, b = r+(d.c[0]-r)*a, g+(d.c[1]-g)*a, b+(d.c[2]-b)*a
				}
			}
			if float32(y) > hz && (x/post)%3 == 0 && x%post < postW {
				r, g, b = r*0.3, g*0.3, b*0.3
			}
			n += 0.6 * (float32(hash(x, y, seed)&15) - 7.5)
			img.SetNRGBA(x, y, color.NRGBA{clamp(r + n), clamp(g + 0.9*n), clamp(b + 0.8*n), 255})
		}
	}
	return img
}

// noise is value noise: random values on a grid, interpolated smoothly.
type noise struct {
	step, gw int
	v        []float32
}

func newNoise(w, h, step int, seed uint64) noise {
	gw, gh := w/step+2, h/step+2
	f := noise{step: step, gw: gw, v: make([]float32, gw*gh)}
	s := seed | 1
	for i := range f.v {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		f.v[i] = float32(s>>40)/float32(1<<24)*2 - 1
	}
	return f
}

func (f noise) at(x, y int) float32 {
	gx, gy := x/f.step, y/f.step
	fx := float32(x%f.step) / float32(f.step)
	fy := float32(y%f.step) / float32(f.step)
	fx = fx * fx * (3 - 2*fx)
	fy = fy * fy * (3 - 2*fy)
	i := gy*f.gw + gx
	a := f.v[i] + (f.v[i+1]-f.v[i])*fx
	b := f.v[i+f.gw] + (f.v[i+f.gw+1]-f.v[i+f.gw])*fx
	return a + (b-a)*fy
}

func hash(x, y int, seed uint64) uint64 {
	h := uint64(x)*0x9E3779B97F4A7C15 ^ uint64(y)*0xC2B2AE3D27D4EB4F ^ seed
	h ^= h >> 31
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 29
	return h
}

func clamp(v float32) uint8 {
	return uint8(min(max(v, 0), 255) + 0.5)
}
