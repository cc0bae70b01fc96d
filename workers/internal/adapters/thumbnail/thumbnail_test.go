package thumbnail_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/disintegration/imaging"

	"pixshare/workers/internal/adapters/thumbnail"
)

const photos = "../../../../testdata/photos"

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(photos, name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func generate(tb testing.TB, data []byte) map[string]thumbnail.Rendition {
	tb.Helper()
	rs, err := thumbnail.Generate(context.Background(), data, thumbnail.Options{})
	if err != nil {
		tb.Fatalf("Generate: %v", err)
	}
	byName := map[string]thumbnail.Rendition{}
	for _, r := range rs {
		byName[r.Name] = r
	}
	if len(byName) != 1+len(thumbnail.Sizes()) {
		tb.Fatalf("got %d renditions, want %d", len(byName), 1+len(thumbnail.Sizes()))
	}
	return byName
}

// decodeJPEG decodes a rendition as a viewer shows it: upright under its
// EXIF orientation, which only a JPEG upload's original may carry.
func decodeJPEG(tb testing.TB, r thumbnail.Rendition) image.Image {
	tb.Helper()
	m, err := imaging.Decode(bytes.NewReader(r.JPEG), imaging.AutoOrientation(true))
	if err != nil {
		tb.Fatalf("%s: decoding output: %v", r.Name, err)
	}
	return m
}

type dims struct{ w, h int }

// decodable are the fixtures Generate must accept, with the upright size of
// every rendition. Nothing is ever larger than the picture.
var decodable = []struct {
	file string
	want map[string]dims
}{
	{"landscape.jpg", map[string]dims{"original": {1600, 1200}, "thumb": {150, 150}, "small": {320, 240}, "medium": {640, 480}, "large": {1080, 810}}},
	{"portrait-exif6.jpg", map[string]dims{"original": {900, 1200}, "thumb": {150, 150}, "small": {320, 427}, "medium": {640, 853}, "large": {900, 1200}}},
	{"small.png", map[string]dims{"original": {100, 80}, "thumb": {80, 80}, "small": {100, 80}, "medium": {100, 80}, "large": {100, 80}}},
	{"alpha.png", map[string]dims{"original": {400, 300}, "thumb": {150, 150}, "small": {320, 240}, "medium": {400, 300}, "large": {400, 300}}},
	{"anim.gif", map[string]dims{"original": {200, 150}, "thumb": {150, 150}, "small": {200, 150}, "medium": {200, 150}, "large": {200, 150}}},
	{"photo.webp", map[string]dims{"original": {400, 300}, "thumb": {150, 150}, "small": {320, 240}, "medium": {400, 300}, "large": {400, 300}}},
	{"photo-lossy.webp", map[string]dims{"original": {400, 300}, "thumb": {150, 150}, "small": {320, 240}, "medium": {400, 300}, "large": {400, 300}}},
}

// TestGenerateFixtures makes every rendition of each fixture once and
// checks three things of them (one Generate each: under -race in CI a
// Generate of a 2 MP fixture takes seconds):
//
//   - size: the upright size of every rendition, as it says and as its
//     JPEG decodes; nothing is ever larger than the picture;
//   - metadata: every output's marker segments. The sizes hold only what
//     a baseline decoder needs (SOI, DQT, SOF0, DHT, DRI, SOS, EOI). A
//     JPEG upload's original may also hold the minimal JFIF APP0, an EXIF
//     APP1 with the orientation alone, an Adobe APP14 and a progressive
//     SOF2 (strip_test.go checks the contents of those). No EXIF, GPS or
//     maker bytes may be anywhere: portrait-exif6.jpg carries Make, Model
//     and GPS tags in, so it is the case that matters;
//   - quality: every rendition against the plain reference (imaging's
//     Lanczos from the full picture), on luma. 35 dB PSNR is the usual
//     "no visible difference" mark for 8-bit pictures, and it has to hold
//     after the JPEG quantisation at quality 85, which alone costs the
//     textured fixtures 38-45 dB against their source.
//     (TestResamplingQuality judges the geometry alone, more strictly.)
func TestGenerateFixtures(t *testing.T) {
	t.Parallel()
	sizes := map[byte]bool{0xD8: true, 0xDB: true, 0xC0: true, 0xC4: true, 0xDD: true, 0xDA: true, 0xD9: true}
	original := map[byte]bool{0xE0: true, 0xE1: true, 0xEE: true, 0xC1: true, 0xC2: true}
	const minPSNR = 35
	for _, tt := range decodable {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data := fixture(t, tt.file)
			ref := reference(t, data, thumbnail.Sizes())
			for name, r := range generate(t, data) {
				m := decodeJPEG(t, r)
				got := m.Bounds().Size()
				want := tt.want[name]
				if got != image.Pt(want.w, want.h) || r.Width != want.w || r.Height != want.h {
					t.Errorf("%s: rendition says %dx%d, JPEG is %dx%d, want %dx%d", name, r.Width, r.Height, got.X, got.Y, want.w, want.h)
					continue
				}
				for _, m := range markers(t, r.JPEG) {
					if !sizes[m] && !(name == thumbnail.OriginalName && original[m]) {
						t.Errorf("%s: segment FF%02X in output", name, m)
					}
				}
				for _, s := range []string{"GPS", "Pixshare", "Fixture Camera", "ICC_PROFILE", "http://ns.adobe.com", "Photoshop"} {
					if bytes.Contains(r.JPEG, []byte(s)) {
						t.Errorf("%s: output contains %q", name, s)
					}
				}
				if name != thumbnail.OriginalName && bytes.Contains(r.JPEG, []byte("Exif")) {
					t.Errorf("%s: a size holds EXIF", name)
				}
				p := lumaPSNR(t, m, ref[name])
				t.Logf("%-9s %4dx%-4d %.1f dB", name, r.Width, r.Height, p)
				if p < minPSNR {
					t.Errorf("%s: luma PSNR %.1f dB against the reference, want ≥ %d", name, p, minPSNR)
				}
			}
		})
	}
}

// markers lists the marker codes of a JPEG's segments, skipping
// entropy-coded data (where FF00 and RSTn may occur).
func markers(t *testing.T, data []byte) []byte {
	t.Helper()
	var out []byte
	for i := 0; i+1 < len(data); {
		if data[i] != 0xFF {
			t.Fatalf("no marker at offset %d", i)
		}
		m := data[i+1]
		out = append(out, m)
		i += 2
		if m == 0xD8 || m == 0xD9 {
			continue
		}
		if i+2 > len(data) {
			t.Fatalf("segment FF%02X cut short", m)
		}
		i += int(binary.BigEndian.Uint16(data[i:]))
		if m == 0xDA {
			for i+1 < len(data) && !(data[i] == 0xFF && data[i+1] != 0 && (data[i+1] < 0xD0 || data[i+1] > 0xD7)) {
				i++
			}
		}
	}
	return out
}

func TestGenerateRefuses(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		data []byte
		opts thumbnail.Options
		want error
	}{
		{"truncated JPEG", context.Background(), fixture(t, "corrupt.jpg"), thumbnail.Options{}, thumbnail.ErrCorrupt},
		{"text", context.Background(), fixture(t, "not-an-image.txt"), thumbnail.Options{}, thumbnail.ErrUnsupportedFormat},
		{"pixel bomb", context.Background(), fixture(t, "bomb.png"), thumbnail.Options{}, thumbnail.ErrTooManyPixels},
		{"over the caller's limit", context.Background(), fixture(t, "landscape.jpg"), thumbnail.Options{MaxPixels: 1600*1200 - 1}, thumbnail.ErrTooManyPixels},
		{"empty", context.Background(), nil, thumbnail.Options{}, thumbnail.ErrUnsupportedFormat},
		{"canceled", canceled, fixture(t, "landscape.jpg"), thumbnail.Options{}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs, err := thumbnail.Generate(tt.ctx, tt.data, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Generate = %d renditions, %v; want %v", len(rs), err, tt.want)
			}
		})
	}
}

// TestGenerateOrientations stores one asymmetric picture under each of the
// eight EXIF orientations, transformed so that it displays the same, and
// checks that every output shows the upright picture.
func TestGenerateOrientations(t *testing.T) {
	t.Parallel()
	const w, h = 64, 48
	// Upright: red top-left, green top-right, blue bottom-left, grey bottom-right.
	quadrant := func(x, y, w, h int) color.RGBA {
		switch {
		case x < w/2 && y < h/2:
			return color.RGBA{220, 30, 30, 255}
		case y < h/2:
			return color.RGBA{30, 200, 30, 255}
		case x < w/2:
			return color.RGBA{30, 30, 220, 255}
		}
		return color.RGBA{128, 128, 128, 255}
	}
	for o := 1; o <= 8; o++ {
		t.Run(fmt.Sprint("orientation", o), func(t *testing.T) {
			t.Parallel()
			sw, sh := w, h
			if o >= 5 {
				sw, sh = h, w
			}
			stored := image.NewRGBA(image.Rect(0, 0, sw, sh))
			for y := range h {
				for x := range w {
					sx, sy := storedAt(o, x, y, sw, sh)
					stored.SetRGBA(sx, sy, quadrant(x, y, w, h))
				}
			}
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, stored, &jpeg.Options{Quality: 95}); err != nil {
				t.Fatal(err)
			}
			data := withOrientation(buf.Bytes(), uint16(o))
			rs, err := thumbnail.Generate(context.Background(), data, thumbnail.Options{
				Sizes: []thumbnail.Size{{Name: "half", Width: w / 2}, {Name: "square", Width: 20, Height: 20, Crop: true}},
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				m := decodeJPEG(t, r)
				b := m.Bounds()
				if r.Name != "square" && b.Dx()*h != b.Dy()*w {
					t.Errorf("%s: %v is not upright %dx%d", r.Name, b, w, h)
					continue
				}
				for _, p := range []image.Point{{b.Dx() / 6, b.Dy() / 6}, {b.Dx() * 5 / 6, b.Dy() / 6}, {b.Dx() / 6, b.Dy() * 5 / 6}, {b.Dx() * 5 / 6, b.Dy() * 5 / 6}} {
					got := color.RGBAModel.Convert(m.At(p.X, p.Y)).(color.RGBA)
					want := quadrant(p.X, p.Y, b.Dx(), b.Dy())
					if diff(got.R, want.R) > 40 || diff(got.G, want.G) > 40 || diff(got.B, want.B) > 40 {
						t.Errorf("%s at %v: got %v, want %v", r.Name, p, got, want)
					}
				}
			}
		})
	}
}

// storedAt is where upright pixel (x, y) is stored under orientation o, in
// a stored picture of sw×sh (the definitions of the EXIF tag).
func storedAt(o, x, y, sw, sh int) (int, int) {
	switch o {
	case 2:
		return sw - 1 - x, y
	case 3:
		return sw - 1 - x, sh - 1 - y
	case 4:
		return x, sh - 1 - y
	case 5:
		return y, x
	case 6:
		return y, sh - 1 - x
	case 7:
		return sw - 1 - y, sh - 1 - x
	case 8:
		return sw - 1 - y, x
	}
	return x, y
}

func diff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// withOrientation inserts a big-endian APP1 Exif segment holding only the
// orientation tag after the SOI marker.
func withOrientation(jpegData []byte, o uint16) []byte {
	tiff := []byte("MM\x00*\x00\x00\x00\x08\x00\x01")
	tiff = append(tiff, 0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1)
	tiff = binary.BigEndian.AppendUint16(tiff, o)
	tiff = append(tiff, 0, 0, 0, 0, 0, 0)
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE1}, uint16(len(payload)+2))
	out := append([]byte{}, jpegData[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpegData[2:]...)
}

// TestGenerateCompositesOnWhite: alpha.png's left third is fully
// transparent and must come out white; its opaque red disc stays red.
func TestGenerateCompositesOnWhite(t *testing.T) {
	t.Parallel()
	for name, r := range generate(t, fixture(t, "alpha.png")) {
		m := decodeJPEG(t, r)
		b := m.Bounds()
		if name == "thumb" { // the centre crop starts inside the fade
			continue
		}
		white := color.RGBAModel.Convert(m.At(b.Dx()/8, b.Dy()/2)).(color.RGBA)
		if white.R < 245 || white.G < 245 || white.B < 245 {
			t.Errorf("%s: transparent area is %v, want white", name, white)
		}
		red := color.RGBAModel.Convert(m.At(b.Dx()/2, b.Dy()/2)).(color.RGBA)
		if red.R < 170 || red.G > 70 || red.B > 70 {
			t.Errorf("%s: opaque disc is %v, want red", name, red)
		}
	}
}

// TestGenerateGIFFirstFrame: anim.gif's first frame is red with a
// transparent top-left corner; the later frames are blue and green.
func TestGenerateGIFFirstFrame(t *testing.T) {
	t.Parallel()
	r := generate(t, fixture(t, "anim.gif"))[thumbnail.OriginalName]
	m := decodeJPEG(t, r)
	if c := color.RGBAModel.Convert(m.At(150, 100)).(color.RGBA); c.R < 150 || c.B > 90 {
		t.Errorf("centre is %v, want the first frame's red", c)
	}
	if c := color.RGBAModel.Convert(m.At(10, 10)).(color.RGBA); c.R < 245 || c.G < 245 || c.B < 245 {
		t.Errorf("transparent corner is %v, want white", c)
	}
}

// TestResamplingQuality judges the geometry alone, before JPEG hides small
// errors: the images the pipeline hands to the encoder against the
// reference, on the upright fixtures. Here the only differences are the
// method (a DCT-scaled decode of JPEGs, sizes made from larger sizes) and
// 8-bit rounding; 40 dB means an average error under 2.6 levels of 255;
// the pipeline reaches 42-61 dB (+Inf where nothing differs). Point
// sampling instead of a filter fails it, and so would a misplaced window
// or a wrong filter.
func TestResamplingQuality(t *testing.T) {
	t.Parallel()
	type set struct {
		sizes   []thumbnail.Size
		minPSNR float64
	}
	// Each set is rendered on its own, so that each decodes at the scale
	// its largest size allows.
	sets := map[string]set{
		"served": {thumbnail.Sizes(), 40},
		// landscape.jpg decodes at 3/8 (600 wide) for both, then
		// Lanczos 600→400 and 400→100.
		"quarter": {[]thumbnail.Size{{Name: "w400", Width: 400}, {Name: "w100", Width: 100}}, 40},
		// 1/8 (200 wide, the 2× margin it needs) then Lanczos by 2.2
		// and by 4.4.
		"eighth": {[]thumbnail.Size{{Name: "w90", Width: 90}}, 40},
		"tiny":   {[]thumbnail.Size{{Name: "w45", Width: 45}}, 40},
		"crop":   {[]thumbnail.Size{{Name: "crop-700", Width: 700, Height: 233, Crop: true}}, 40},
		// A crop window can only start on a whole pixel of the scaled
		// picture: at 2/8 it lands up to 2 pixels of the full picture
		// from the reference's, and this crop is only 1.33× below its
		// window. 37.9 dB here; the served 150×150 thumbs reach 47-58.
		"crop-quarter": {[]thumbnail.Size{{Name: "crop-quarter", Width: 300, Height: 100, Crop: true}}, 37},
	}
	for _, file := range []string{"landscape.jpg", "portrait-exif6.jpg", "alpha.png", "photo.webp", "photo-lossy.webp"} {
		for name, set := range sets {
			if name != "served" && filepath.Ext(file) != ".jpg" {
				continue // only a JPEG's decode scale depends on the set
			}
			t.Run(file+"/"+name, func(t *testing.T) {
				t.Parallel()
				data := fixture(t, file)
				ref := reference(t, data, set.sizes)
				got, err := thumbnail.RenderImages(data, set.sizes)
				if err != nil {
					t.Fatal(err)
				}
				for i, s := range set.sizes {
					p := lumaPSNR(t, got[i], ref[s.Name])
					t.Logf("%-12s %4dx%-4d %.1f dB", s.Name, got[i].Bounds().Dx(), got[i].Bounds().Dy(), p)
					if p < set.minPSNR {
						t.Errorf("%s: luma PSNR %.1f dB before encoding, want ≥ %.0f", s.Name, p, set.minPSNR)
					}
				}
			})
		}
	}
}

// TestGenerateConcurrent runs Generate from several goroutines at once
// (under -race this checks the decoder's reconstruct goroutines, the
// encoders and imaging's workers) and checks each result is byte for byte
// the serial one. Small pictures of every path: the race detector needs
// the goroutines, not the pixels.
func TestGenerateConcurrent(t *testing.T) {
	t.Parallel()
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("jpegdec/testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	pictures := map[string][]byte{
		"sequential":  read("video-001.jpeg"),
		"progressive": read("video-001.progressive.jpeg"),
		"rotated":     withOrientation(read("video-001.q50.422.jpeg"), 6),
		"png":         fixture(t, "alpha.png"),
		"webp":        fixture(t, "photo-lossy.webp"),
	}
	want := map[string]map[string]thumbnail.Rendition{}
	for name, data := range pictures {
		want[name] = generate(t, data)
	}
	var wg sync.WaitGroup
	for name, data := range pictures {
		wg.Go(func() {
			got, err := thumbnail.Generate(context.Background(), data, thumbnail.Options{Workers: 3})
			if err != nil {
				t.Error(err)
				return
			}
			for _, r := range got {
				if !bytes.Equal(r.JPEG, want[name][r.Name].JPEG) {
					t.Errorf("%s %s: concurrent output differs from the serial one", name, r.Name)
				}
			}
		})
	}
	wg.Wait()
}

// TestGenerateEachEmitsWhatGenerateReturns: GenerateEach hands over every
// rendition Generate returns, each once, with the same size and bytes: a
// JPEG's stripped original, a rotated JPEG's, and an original that is
// re-encoded (PNG). The emitted list is appended to without a lock: emit
// is documented as never called twice at once, and -race checks that.
func TestGenerateEachEmitsWhatGenerateReturns(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"landscape.jpg", "portrait-exif6.jpg", "small.png"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			data := fixture(t, file)
			want, err := thumbnail.Generate(context.Background(), data, thumbnail.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var emitted []thumbnail.Rendition
			err = thumbnail.GenerateEach(context.Background(), data, thumbnail.Options{}, func(r thumbnail.Rendition) {
				emitted = append(emitted, r)
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(emitted) != len(want) {
				t.Fatalf("emitted %d renditions, Generate returns %d", len(emitted), len(want))
			}
			byName := map[string]thumbnail.Rendition{}
			for _, r := range emitted {
				if _, dup := byName[r.Name]; dup {
					t.Fatalf("%s emitted twice", r.Name)
				}
				byName[r.Name] = r
			}
			for _, w := range want {
				got, ok := byName[w.Name]
				switch {
				case !ok:
					t.Errorf("%s: returned but never emitted", w.Name)
				case got.Width != w.Width || got.Height != w.Height:
					t.Errorf("%s: emitted %dx%d, returned %dx%d", w.Name, got.Width, got.Height, w.Width, w.Height)
				case !bytes.Equal(got.JPEG, w.JPEG):
					t.Errorf("%s: emitted bytes differ from the returned ones", w.Name)
				}
			}
		})
	}
}

// TestGenerateWebPOrientation: a WebP's EXIF chunk is honoured too.
// photo.webp (400×300) is rewrapped in the extended format with an EXIF
// chunk saying orientation 6, so it must come out 300×400.
func TestGenerateWebPOrientation(t *testing.T) {
	t.Parallel()
	plain := fixture(t, "photo.webp")
	le := binary.LittleEndian
	chunks := []byte("VP8X\x0a\x00\x00\x00\x08\x00\x00\x00")
	chunks = append(chunks, le.AppendUint32(nil, 400-1)[:3]...)
	chunks = append(chunks, le.AppendUint32(nil, 300-1)[:3]...)
	chunks = append(chunks, plain[12:]...) // the VP8L chunk
	tiff := []byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00")
	chunks = append(chunks, "EXIF"...)
	chunks = le.AppendUint32(chunks, uint32(len(tiff)))
	chunks = append(chunks, tiff...)
	data := append([]byte("RIFF"), le.AppendUint32(nil, uint32(4+len(chunks)))...)
	data = append(data, "WEBP"...)
	data = append(data, chunks...)

	r := generate(t, data)
	for name, want := range map[string]dims{"original": {300, 400}, "small": {300, 400}, "thumb": {150, 150}} {
		if got := decodeJPEG(t, r[name]).Bounds().Size(); got != image.Pt(want.w, want.h) {
			t.Errorf("%s: %v, want %dx%d", name, got, want.w, want.h)
		}
	}
}

// TestGenerateJPEGVariants runs the JPEG flavours the fixtures lack
// (image/jpeg's test pictures, kept in jpegdec/testdata): progressive,
// every chroma subsampling, restart intervals, grey, CMYK and RGB. Each
// must come out at its size and close to the reference.
func TestGenerateJPEGVariants(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("jpegdec/testdata/*.jpeg")
	if err != nil || len(paths) < 10 {
		t.Fatalf("jpegdec test pictures: %d, %v", len(paths), err)
	}
	// (The "truncated" one lacks some progressive scans but ends properly:
	// it decodes, blurrier, in every decoder.)
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			ref := reference(t, data, thumbnail.Sizes())
			for name, r := range generate(t, data) {
				m := decodeJPEG(t, r)
				if m.Bounds().Size() != ref[name].Bounds().Size() {
					t.Errorf("%s: %v, want %v", name, m.Bounds().Size(), ref[name].Bounds().Size())
					continue
				}
				if p := lumaPSNR(t, m, ref[name]); p < 35 {
					t.Errorf("%s: luma PSNR %.1f dB against the reference, want ≥ 35", name, p)
				}
			}
		})
	}
}

// TestCorpusQuality runs only when PIXSHARE_BENCH_IMAGES names a folder of
// pictures (scripts/bench.sh builds the real-photo corpus of
// docs/images.md): it logs every served size's luma PSNR against the
// reference before encoding, and holds them to the same 35 dB as the
// fixtures. It is how docs/images.md's quality table is made:
//
//	cd workers && PIXSHARE_BENCH_IMAGES=<corpus> go test -run TestCorpusQuality -v ./internal/adapters/thumbnail
func TestCorpusQuality(t *testing.T) {
	dir := os.Getenv("PIXSHARE_BENCH_IMAGES")
	if dir == "" {
		t.Skip("PIXSHARE_BENCH_IMAGES is unset")
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.jp*g"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no JPEGs in %s: %v", dir, err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ref := reference(t, data, thumbnail.Sizes())
		got, err := thumbnail.RenderImages(data, thumbnail.Sizes())
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range thumbnail.Sizes() {
			q := lumaPSNR(t, got[i], ref[s.Name])
			t.Logf("%-34s %-6s %4dx%-4d %.1f dB", filepath.Base(p), s.Name, got[i].Bounds().Dx(), got[i].Bounds().Dy(), q)
			if q < 35 {
				t.Errorf("%s %s: %.1f dB", filepath.Base(p), s.Name, q)
			}
		}
	}
}
