package thumbnail

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"pixshare/contracts/media"
)

// tiffWithOrientation is a minimal TIFF structure whose IFD0 holds one
// entry: the orientation tag with the given type and value.
func tiffWithOrientation(order binary.AppendByteOrder, typ, value uint16) []byte {
	var tiff []byte
	if order == binary.AppendByteOrder(binary.BigEndian) {
		tiff = []byte("MM\x00*")
	} else {
		tiff = []byte("II*\x00")
	}
	tiff = order.AppendUint32(tiff, 8)
	tiff = order.AppendUint16(tiff, 2) // two entries: another tag first
	tiff = order.AppendUint16(tiff, 0x010F)
	tiff = order.AppendUint16(tiff, 2)
	tiff = order.AppendUint32(tiff, 4)
	tiff = append(tiff, 'A', 'B', 'C', 0)
	tiff = order.AppendUint16(tiff, orientationTag)
	tiff = order.AppendUint16(tiff, typ)
	tiff = order.AppendUint32(tiff, 1)
	tiff = order.AppendUint16(tiff, value)
	tiff = append(tiff, 0, 0)
	return order.AppendUint32(tiff, 0)
}

func jpegWithAPP1(payload []byte) []byte {
	out := []byte{0xFF, 0xD8}
	// An APP0 and an XMP APP1 first: the reader must skip both.
	out = append(out, 0xFF, 0xE0, 0, 7, 'J', 'F', 'I', 'F', 0)
	xmp := []byte("http://ns.adobe.com/xap/1.0/\x00<x/>")
	out = append(out, 0xFF, 0xE1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(xmp)+2))
	out = append(out, xmp...)
	out = append(out, 0xFF, 0xE1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(payload)+2))
	out = append(out, payload...)
	return append(out, 0xFF, 0xDA, 0, 2, 0xFF, 0xD9)
}

func webpWithEXIF(tiff []byte) []byte {
	chunks := []byte("VP8X\x0a\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	chunks = append(chunks, "VP8L\x05\x00\x00\x00\x2f\x00\x00\x00\x00\x00"...) // odd length: padded
	chunks = append(chunks, "EXIF"...)
	chunks = binary.LittleEndian.AppendUint32(chunks, uint32(len(tiff)))
	chunks = append(chunks, tiff...)
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(4+len(chunks)))
	out = append(out, "WEBP"...)
	return append(out, chunks...)
}

func pngWithEXIF(tiff []byte) []byte {
	chunk := func(out []byte, typ string, data []byte) []byte {
		out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
		body := append([]byte(typ), data...)
		out = append(out, body...)
		return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
	}
	out := []byte("\x89PNG\r\n\x1a\n")
	out = chunk(out, "IHDR", []byte{0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0})
	out = chunk(out, "eXIf", tiff)
	return chunk(out, "IEND", nil)
}

func TestReadOrientation(t *testing.T) {
	t.Parallel()
	le, be := binary.LittleEndian, binary.BigEndian
	exif := func(tiff []byte) []byte { return append([]byte("Exif\x00\x00"), tiff...) }
	fixture := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("../../../../testdata/photos", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	tests := []struct {
		name   string
		data   []byte
		format media.Format
		want   int
	}{
		{"portrait-exif6.jpg", fixture("portrait-exif6.jpg"), media.JPEG, 6},
		{"landscape.jpg (no EXIF)", fixture("landscape.jpg"), media.JPEG, 1},
		{"JPEG little-endian 3", jpegWithAPP1(exif(tiffWithOrientation(le, 3, 3))), media.JPEG, 3},
		{"JPEG big-endian 8", jpegWithAPP1(exif(tiffWithOrientation(be, 3, 8))), media.JPEG, 8},
		{"JPEG value 9", jpegWithAPP1(exif(tiffWithOrientation(le, 3, 9))), media.JPEG, 1},
		{"JPEG value 0", jpegWithAPP1(exif(tiffWithOrientation(le, 3, 0))), media.JPEG, 1},
		{"JPEG tag as LONG", jpegWithAPP1(exif(tiffWithOrientation(le, 4, 6))), media.JPEG, 1},
		{"JPEG APP1 cut short", jpegWithAPP1(exif(tiffWithOrientation(le, 3, 6)))[:40], media.JPEG, 1},
		{"JPEG TIFF without the Exif prefix", jpegWithAPP1(tiffWithOrientation(le, 3, 6)), media.JPEG, 1},
		{"JPEG IFD offset past the end", jpegWithAPP1(exif([]byte("II*\x00\xff\xff\xff\x7f"))), media.JPEG, 1},
		{"WebP EXIF chunk", webpWithEXIF(tiffWithOrientation(le, 3, 6)), media.WebP, 6},
		{"WebP EXIF chunk with the JPEG prefix", webpWithEXIF(exif(tiffWithOrientation(be, 3, 5))), media.WebP, 5},
		{"photo.webp (no EXIF)", fixture("photo.webp"), media.WebP, 1},
		{"PNG eXIf chunk", pngWithEXIF(tiffWithOrientation(be, 3, 7)), media.PNG, 7},
		{"GIF (no EXIF there)", fixture("anim.gif"), media.GIF, 1},
	}
	for _, tt := range tests {
		if got := readOrientation(tt.data, tt.format); got != tt.want {
			t.Errorf("%s: orientation %d, want %d", tt.name, got, tt.want)
		}
	}
}

// FuzzOrientation: whatever the bytes, the reader returns 1..8 and never
// panics.
//
//	go test -fuzz FuzzOrientation ./internal/thumbnail
func FuzzOrientation(f *testing.F) {
	le, be := binary.LittleEndian, binary.BigEndian
	f.Add(jpegWithAPP1(append([]byte("Exif\x00\x00"), tiffWithOrientation(le, 3, 6)...)), uint8(0))
	f.Add(jpegWithAPP1(append([]byte("Exif\x00\x00"), tiffWithOrientation(be, 3, 8)...)), uint8(0))
	f.Add(webpWithEXIF(tiffWithOrientation(le, 3, 3)), uint8(1))
	f.Add(pngWithEXIF(tiffWithOrientation(be, 3, 2)), uint8(2))
	formats := []media.Format{media.JPEG, media.WebP, media.PNG, media.GIF}
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		if o := readOrientation(data, formats[int(format)%len(formats)]); o < 1 || o > 8 {
			t.Errorf("orientation %d", o)
		}
	})
}
