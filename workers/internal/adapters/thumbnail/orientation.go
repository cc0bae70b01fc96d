package thumbnail

import (
	"bytes"
	"encoding/binary"

	"pixshare/contracts/media"
)

// The EXIF orientation is read by the small parser below rather than a
// library: one SHORT in IFD0 is all we need, from three containers (JPEG
// APP1, the WebP EXIF chunk, the PNG eXIf chunk). imaging's auto-orient
// covers JPEG only and is not exported separately; goexif is unversioned
// and unmaintained; go-exif/v3 brings a dozen dependencies and parses every
// IFD. This parser only indexes into a byte slice with bounds checks, and
// FuzzOrientation keeps it from panicking on hostile input.

// orientationTag is the TIFF tag of the EXIF orientation (a SHORT, 1..8).
const orientationTag = 0x0112

// readOrientation returns the EXIF orientation of an encoded picture, or 1
// (as stored) when there is none or it is unreadable: a wrong tag must not
// fail an upload, only leave it as the camera stored it.
func readOrientation(data []byte, f media.Format) int {
	var tiff []byte
	switch f {
	case media.JPEG:
		tiff = jpegEXIF(data)
	case media.WebP:
		tiff = riffChunk(data, "EXIF")
	case media.PNG:
		tiff = pngChunk(data, "eXIf")
	}
	// Some writers keep the JPEG APP1 prefix in WebP and PNG chunks too.
	tiff = bytes.TrimPrefix(tiff, []byte("Exif\x00\x00"))
	if o := tiffOrientation(tiff); o >= 1 && o <= 8 {
		return o
	}
	return 1
}

// jpegEXIF returns the TIFF structure of the first APP1 Exif segment, which
// comes before the first scan.
func jpegEXIF(data []byte) []byte {
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return nil
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0xDA || marker == 0xD9: // SOS, EOI: no EXIF past here
			return nil
		case marker == 0x01 || marker >= 0xD0 && marker <= 0xD8: // no length
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}

// riffChunk returns the payload of the first chunk of a RIFF file (WebP)
// with the given fourCC.
func riffChunk(data []byte, fourCC string) []byte {
	if len(data) < 12 || string(data[0:4]) != "RIFF" {
		return nil
	}
	for i := 12; i+8 <= len(data); {
		n := int(binary.LittleEndian.Uint32(data[i+4:]))
		if n < 0 || n > len(data)-i-8 {
			return nil
		}
		if string(data[i:i+4]) == fourCC {
			return data[i+8 : i+8+n]
		}
		i += 8 + n + n&1 // chunks are padded to an even length
	}
	return nil
}

// pngChunk returns the payload of the first PNG chunk of the given type.
func pngChunk(data []byte, typ string) []byte {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(data, []byte(sig)) {
		return nil
	}
	for i := len(sig); i+12 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		if n < 0 || n > len(data)-i-12 {
			return nil
		}
		switch string(data[i+4 : i+8]) {
		case typ:
			return data[i+8 : i+8+n]
		case "IEND":
			return nil
		}
		i += 12 + n
	}
	return nil
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure, or
// returns 0.
func tiffOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 0
	}
	var order binary.ByteOrder
	switch string(tiff[:4]) {
	case "II*\x00":
		order = binary.LittleEndian
	case "MM\x00*":
		order = binary.BigEndian
	default:
		return 0
	}
	ifd := int64(order.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > int64(len(tiff)) {
		return 0
	}
	count := int64(order.Uint16(tiff[ifd:]))
	for e := ifd + 2; e+12 <= int64(len(tiff)) && count > 0; e, count = e+12, count-1 {
		if order.Uint16(tiff[e:]) != orientationTag {
			continue
		}
		const typeShort = 3
		if order.Uint16(tiff[e+2:]) != typeShort || order.Uint32(tiff[e+4:]) < 1 {
			return 0
		}
		return int(order.Uint16(tiff[e+8:])) // a SHORT sits at the start of the value field
	}
	return 0
}
