package thumbnail

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image/jpeg"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// segment is one marker segment of a JPEG as checkSegments reads it.
type segment struct {
	marker  byte
	payload []byte // after the length field; nil for SOI, EOI
}

// checkSegments walks a stripper's output strictly and fails unless it is
// SOI, then only the allowed segments, then EOI as its last two bytes. It
// returns the segments (scan data and the restart markers inside it are
// skipped). Every APPn must be one the stripper writes: the JFIF APP0 as
// written, an EXIF APP1 holding the Orientation tag alone (2..8), an
// Adobe APP14 of 12 bytes.
func checkSegments(t testing.TB, data []byte) []segment {
	t.Helper()
	if len(data) < 4 || data[0] != 0xFF || data[1] != mSOI {
		t.Fatalf("output does not start with SOI")
	}
	segs := []segment{{marker: mSOI}}
	allowed := map[byte]bool{mAPP0: true, mAPP1: true, mAPP14: true, mDQT: true, mDHT: true, mDRI: true, mSOF0: true, mSOF1: true, mSOF2: true, mSOS: true}
	count := map[byte]int{}
	for i := 2; ; {
		if i+2 > len(data) || data[i] != 0xFF {
			t.Fatalf("no marker at offset %d of %d", i, len(data))
		}
		m := data[i+1]
		if m == mEOI {
			if i+2 != len(data) {
				t.Fatalf("%d bytes after EOI", len(data)-i-2)
			}
			return append(segs, segment{marker: mEOI})
		}
		if !allowed[m] {
			t.Fatalf("segment FF%02X at offset %d is not on the list", m, i)
		}
		count[m]++
		if i+4 > len(data) {
			t.Fatalf("segment FF%02X cut short", m)
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			t.Fatalf("segment FF%02X of length %d runs past the end", m, n)
		}
		p := data[i+4 : i+2+n]
		segs = append(segs, segment{marker: m, payload: p})
		switch m {
		case mAPP0:
			if !bytes.Equal(data[i:i+2+n], jfifAPP0[:]) || i != 2 {
				t.Fatalf("APP0 %q is not the stripper's JFIF right after SOI", p)
			}
		case mAPP1:
			o := tiffOrientation(bytes.TrimPrefix(p, []byte("Exif\x00\x00")))
			if o < 2 || o > 8 || !bytes.Equal(data[i:i+2+n], orientationAPP1(o)) {
				t.Fatalf("APP1 %q is not an EXIF Orientation tag alone", p)
			}
		case mAPP14:
			if len(p) != 12 || string(p[:5]) != "Adobe" {
				t.Fatalf("APP14 %q is not a bare Adobe segment", p)
			}
		}
		i += 2 + n
		if m == mSOS {
			end, ok := scanEnd(data, i)
			if !ok {
				t.Fatal("scan data runs to the end")
			}
			i = end
		}
	}
}

// withSegments inserts segments after SOI and appends trailer after EOI.
func withSegments(jpg []byte, trailer []byte, segs ...[]byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	out = append(out, jpg[2:]...)
	return append(out, trailer...)
}

func app(marker byte, payload string) []byte {
	s := []byte{0xFF, marker}
	s = binary.BigEndian.AppendUint16(s, uint16(2+len(payload)))
	return append(s, payload...)
}

// private is what a camera or an editor leaves in a JPEG, as strings that
// must not survive the strip.
var private = []string{"GPS", "Canon EOS", "serial 1234", "x:xmpmeta", "ICC_PROFILE", "Photoshop 3.0", "8BIM", "MPF", "John's iPhone", "ftypmp42", "secret comment"}

// loaded is landscape.jpg (a JFIF file) with every kind of metadata in
// front, junk between segments, a stray restart marker, fill bytes and a
// video after EOI, as Motion Photos have.
func loaded(t testing.TB) []byte {
	t.Helper()
	jpg, err := os.ReadFile(filepath.Join(photos, "landscape.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	exif := append([]byte("Exif\x00\x00"), tiffWithOrientation(binary.BigEndian, 3, 6)...)
	exif = append(exif, "GPS Canon EOS serial 1234"...)
	return withSegments(jpg, []byte("\x00\x00\x00\x18ftypmp42 John's iPhone video"),
		app(mAPP1, string(exif)),
		app(mAPP1, "http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>John's iPhone</x:xmpmeta>"),
		app(0xE2, "ICC_PROFILE\x00\x01\x01 desc John's iPhone display"),
		app(0xE2, "MPF\x00II*\x00"),
		app(0xED, "Photoshop 3.0\x008BIM\x04\x04 GPS"),
		app(mCOM, "secret comment"),
		[]byte("junk between segments"),
		[]byte{0xFF, 0xD3}, // a stray RST
		[]byte{0xFF, 0xFF, 0xFF}, app(0xE0, "JFXX\x00\x10 thumbnail GPS"),
	)
}

func photosJPEGs(t testing.TB) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, pattern := range []string{filepath.Join(photos, "*.jpg"), "jpegdec/testdata/*.jpeg"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files[filepath.Base(p)] = data
		}
	}
	files["loaded.jpg"] = loaded(t)
	return files
}

const photos = "../../../../testdata/photos"

// TestStripJPEG strips every JPEG the tests have (the fixtures, image/jpeg's
// own pictures in every flavour, and one loaded with metadata): the output
// holds only the allowed segments and nothing after EOI, no private string,
// the EXIF orientation asked for and no other tag, and decodes to exactly
// the pixels of the upload. A corrupt upload fails.
func TestStripJPEG(t *testing.T) {
	t.Parallel()
	for name, data := range photosJPEGs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, wantErr := jpeg.Decode(bytes.NewReader(data))
			for _, o := range []int{1, 6, 8} {
				out, err := stripJPEG(data, o)
				if wantErr != nil {
					if err == nil {
						if _, err := jpeg.Decode(bytes.NewReader(out)); err == nil {
							t.Fatalf("the upload does not decode (%v), its stripped copy does", wantErr)
						}
					}
					continue
				}
				if err != nil {
					t.Fatalf("orientation %d: %v", o, err)
				}
				// Scan data is the upload's pixels, copied; everything
				// else must be free of what the upload said.
				for _, seg := range checkSegments(t, out) {
					for _, s := range private {
						if bytes.Contains(seg.payload, []byte(s)) {
							t.Errorf("orientation %d: %q survived in segment FF%02X", o, s, seg.marker)
						}
					}
				}
				if got := readOrientation(out, "jpeg"); got != o {
					t.Errorf("orientation %d: the output says %d", o, got)
				}
				if o != 1 {
					// The orientation changes the EXIF APP1 alone (and
					// decoding is slow under -race): the rest must be
					// the orientation-1 output, byte for byte.
					plain, err := stripJPEG(data, 1)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(bytes.Replace(out, orientationAPP1(o), nil, 1), plain) {
						t.Errorf("orientation %d: the output is more than the orientation-1 one and its EXIF APP1", o)
					}
					continue
				}
				got, err := jpeg.Decode(bytes.NewReader(out))
				if err != nil {
					t.Fatalf("orientation %d: the output does not decode: %v", o, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("orientation %d: the output decodes to other pixels than the upload", o)
				}
			}
		})
	}
}

func TestStripJPEGRefuses(t *testing.T) {
	t.Parallel()
	jpg, err := os.ReadFile(filepath.Join(photos, "landscape.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	sof3 := bytes.Replace(jpg, []byte{0xFF, mSOF0}, []byte{0xFF, 0xC3}, 1)
	for _, tt := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"PNG", []byte("\x89PNG\r\n\x1a\n"), ErrCorrupt},
		{"no EOI", jpg[:len(jpg)-2], ErrCorrupt},
		{"cut in a scan", jpg[:len(jpg)/2], ErrCorrupt},
		{"cut in a segment", jpg[:30], ErrCorrupt},
		{"SOI and EOI only", []byte{0xFF, 0xD8, 0xFF, 0xD9}, ErrCorrupt},
		{"unknown marker", withSegments(jpg, nil, []byte{0xFF, 0x02, 0, 2}), ErrCorrupt},
		{"lossless", sof3, ErrUnsupportedFormat},
	} {
		if _, err := stripJPEG(tt.data, 1); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

// TestStripJPEGColourSpace: the stripper adds JFIF only where it does not
// change how decoders read the colours. An RGB JPEG named by its component
// ids, or by an Adobe transform of 0, must stay RGB, and a YCCK one YCCK;
// TestStripJPEG checks the pixels, this the segments.
func TestStripJPEGColourSpace(t *testing.T) {
	t.Parallel()
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("jpegdec/testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	rgb := read("video-001.rgb.jpeg") // Adobe transform 0, components R, G, B
	// The same without its Adobe segment: RGB by its component ids alone.
	at := bytes.Index(rgb, []byte{0xFF, mAPP14})
	if at < 0 {
		t.Fatal("video-001.rgb.jpeg has no APP14")
	}
	n := int(binary.BigEndian.Uint16(rgb[at+2:]))
	rgbByIDs := append(append([]byte{}, rgb[:at]...), rgb[at+2+n:]...)
	for _, tt := range []struct {
		name        string
		data        []byte
		jfif, adobe bool
	}{
		{"Y'CbCr", read("video-001.jpeg"), true, false},
		{"RGB by Adobe transform", rgb, false, true},
		{"RGB by component ids", rgbByIDs, false, false},
		{"CMYK", read("video-001.cmyk.jpeg"), false, true},
		{"grey", read("video-005.gray.jpeg"), true, false},
	} {
		want, err := jpeg.Decode(bytes.NewReader(tt.data))
		if err != nil {
			t.Fatal(err)
		}
		out, err := stripJPEG(tt.data, 1)
		if err != nil {
			t.Fatal(err)
		}
		var jfif, adobe bool
		for _, s := range checkSegments(t, out) {
			jfif = jfif || s.marker == mAPP0
			adobe = adobe || s.marker == mAPP14
		}
		if jfif != tt.jfif || adobe != tt.adobe {
			t.Errorf("%s: JFIF %v, Adobe %v; want %v, %v", tt.name, jfif, adobe, tt.jfif, tt.adobe)
		}
		if got, err := jpeg.Decode(bytes.NewReader(out)); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the output decodes to other pixels (%v)", tt.name, err)
		}
	}
}

// FuzzStripJPEG: whatever the bytes, stripJPEG never panics, fails only
// with ErrCorrupt or ErrUnsupportedFormat, and what it returns holds only
// the allowed segments, nothing after EOI and an EXIF APP1 with the
// Orientation alone; it decodes if and only if the input does, to the same
// pixels.
//
//	go test -fuzz FuzzStripJPEG ./internal/adapters/thumbnail
func FuzzStripJPEG(f *testing.F) {
	for _, data := range photosJPEGs(f) {
		f.Add(data, uint8(6))
	}
	f.Fuzz(func(t *testing.T, data []byte, o uint8) {
		out, err := stripJPEG(data, int(o%10))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupportedFormat) {
				t.Fatalf("error %v is neither ErrCorrupt nor ErrUnsupportedFormat", err)
			}
			return
		}
		checkSegments(t, out)
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width*cfg.Height > 1<<22 {
			return // keep the fuzzer on pictures that decode quickly
		}
		want, wantErr := jpeg.Decode(bytes.NewReader(data))
		got, gotErr := jpeg.Decode(bytes.NewReader(out))
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("the input decodes with %v, the output with %v", wantErr, gotErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatal("the output decodes to other pixels than the input")
		}
	})
}
