package thumbnail

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// The clean "original" of a JPEG upload is the upload itself, losslessly:
// its segment list is rewritten to keep only what decoding needs, and its
// entropy-coded data is copied byte for byte. That costs a copy of the
// file instead of a decode and re-encode of every pixel (about 90% of the
// pipeline's time on a camera photo before; see docs/images.md), and the
// original loses no quality to a second JPEG generation.
//
// Kept, in the upload's order unless said otherwise:
//   - SOI;
//   - a freshly written minimal JFIF APP0 (version 1.01, aspect 1:1, no
//     thumbnail) first, when the picture is grey or Y'CbCr: decoders read
//     the colour space from it, so it is never added where it would turn
//     an RGB or CMYK picture into Y'CbCr;
//   - a freshly written EXIF APP1 holding the Orientation tag and nothing
//     else, when the orientation is 2..8 (see "Orientation" in
//     docs/images.md for why the tag is kept rather than the pixels
//     rotated);
//   - a freshly written Adobe APP14 with the upload's colour transform
//     flag, when it had one (it decides RGB vs Y'CbCr and CMYK vs YCCK);
//   - DQT, DHT, DRI, SOF0/SOF1/SOF2 and each SOS with its entropy-coded
//     data (restart markers included), verbatim: their contents are
//     tables and pixels, parsed by every decoder;
//   - EOI, and nothing after it.
//
// Dropped: every other APPn (EXIF with GPS, maker notes and the embedded
// thumbnail, XMP, IPTC/Photoshop, MPF and the pictures it points to, ICC
// profiles, vendors' blocks), COM, stray restart markers, bytes between
// segments and everything after EOI (Motion Photo videos, vendor trailers).
//
// The rule for what a decoder reads is Go's image/jpeg (the same as
// jpegdec's): the stripped file decodes to the very same pixels, which
// the tests and FuzzStripJPEG check.

// JPEG marker codes (T.81 table B.1) the stripper names.
const (
	mSOF0  = 0xC0
	mSOF1  = 0xC1
	mSOF2  = 0xC2
	mDHT   = 0xC4
	mRST0  = 0xD0
	mRST7  = 0xD7
	mSOI   = 0xD8
	mEOI   = 0xD9
	mSOS   = 0xDA
	mDQT   = 0xDB
	mDRI   = 0xDD
	mAPP0  = 0xE0
	mAPP1  = 0xE1
	mAPP14 = 0xEE
	mAPP15 = 0xEF
	mCOM   = 0xFE
)

// jfifAPP0 is the JFIF segment the stripper writes: version 1.01, density
// unit 0 with a 1:1 aspect ratio, no thumbnail.
var jfifAPP0 = [...]byte{0xFF, mAPP0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}

// orientationAPP1 returns an EXIF APP1 segment whose TIFF structure holds
// one IFD with one entry, Orientation = o.
func orientationAPP1(o int) []byte {
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")  // big-endian, IFD0 at 8
	tiff = binary.BigEndian.AppendUint16(tiff, 1) // one entry
	tiff = binary.BigEndian.AppendUint16(tiff, orientationTag)
	tiff = binary.BigEndian.AppendUint16(tiff, 3) // SHORT
	tiff = binary.BigEndian.AppendUint32(tiff, 1) // one value
	tiff = binary.BigEndian.AppendUint16(tiff, uint16(o))
	tiff = append(tiff, 0, 0)       // the rest of the value field
	tiff = append(tiff, 0, 0, 0, 0) // no IFD1
	seg := []byte{0xFF, mAPP1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(2+6+len(tiff)))
	seg = append(seg, "Exif\x00\x00"...)
	return append(seg, tiff...)
}

// adobeAPP14 returns an Adobe APP14 segment (version 100, no flags) with
// the given colour transform.
func adobeAPP14(transform byte) []byte {
	return []byte{0xFF, mAPP14, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, transform}
}

// stripJPEG returns the JPEG data with only the segments decoding needs
// (see above), with an EXIF Orientation tag when orientation is 2..8. It
// fails with ErrCorrupt where Go's decoder would fail on the segment
// structure (a missing SOI, SOF, SOS or EOI, a segment running past the
// end, an unknown marker) and with ErrUnsupportedFormat on a frame type
// it cannot decode (lossless, hierarchical, arithmetic-coded).
func stripJPEG(data []byte, orientation int) ([]byte, error) {
	if len(data) < 2 || data[0] != 0xFF || data[1] != mSOI {
		return nil, fmt.Errorf("stripping JPEG: no SOI marker: %w", ErrCorrupt)
	}
	body := make([]byte, 0, len(data))
	var (
		jfif           bool // the last APP0 of five bytes or more was JFIF's
		adobe          bool
		transform      byte
		comps          []byte // the SOF's component identifiers
		sawSOF, sawSOS bool
	)
	i := 2
	for {
		// Go's decoder skips anything up to the next 0xFF, and fill
		// bytes; so does the stripper, without copying them.
		for i < len(data) && data[i] != 0xFF {
			i++
		}
		for i+1 < len(data) && data[i+1] == 0xFF {
			i++
		}
		if i+1 >= len(data) {
			return nil, fmt.Errorf("stripping JPEG: no EOI marker: %w", ErrCorrupt)
		}
		marker := data[i+1]
		i += 2
		switch {
		case marker == 0: // an escaped 0xFF outside a scan: extraneous
			continue
		case marker == mEOI:
			if !sawSOF || !sawSOS {
				return nil, fmt.Errorf("stripping JPEG: EOI before a frame and a scan: %w", ErrCorrupt)
			}
			return assemble(body, jfif, adobe, transform, comps, orientation), nil
		case marker >= mRST0 && marker <= mRST7: // stray restart marker
			continue
		}
		if i+2 > len(data) {
			return nil, fmt.Errorf("stripping JPEG: segment FF%02X cut short: %w", marker, ErrCorrupt)
		}
		n := int(binary.BigEndian.Uint16(data[i:]))
		if n < 2 || i+n > len(data) {
			return nil, fmt.Errorf("stripping JPEG: segment FF%02X of length %d runs past the end: %w", marker, n, ErrCorrupt)
		}
		seg := data[i-2 : i+n] // marker, length and payload
		payload := data[i+2 : i+n]
		i += n
		switch {
		case marker == mSOF0 || marker == mSOF1 || marker == mSOF2:
			if sawSOF {
				return nil, fmt.Errorf("stripping JPEG: more than one SOF: %w", ErrCorrupt)
			}
			sawSOF = true
			if len(payload) >= 6 {
				nc := int(payload[5])
				for c := range nc {
					if 6+3*c < len(payload) {
						comps = append(comps, payload[6+3*c])
					}
				}
			}
			body = append(body, seg...)
		case marker == mDHT || marker == mDQT || marker == mDRI:
			body = append(body, seg...)
		case marker == mSOS:
			if !sawSOF {
				return nil, fmt.Errorf("stripping JPEG: SOS before SOF: %w", ErrCorrupt)
			}
			sawSOS = true
			body = append(body, seg...)
			// The entropy-coded data runs to the first marker that is
			// neither an escaped 0xFF nor a restart marker.
			end, ok := scanEnd(data, i)
			if !ok {
				return nil, fmt.Errorf("stripping JPEG: scan data runs to the end, no EOI: %w", ErrCorrupt)
			}
			body = append(body, data[i:end]...)
			i = end
		case marker == mAPP0:
			if len(payload) >= 5 {
				jfif = string(payload[:5]) == "JFIF\x00"
			}
		case marker == mAPP14:
			if len(payload) >= 12 && string(payload[:5]) == "Adobe" {
				adobe, transform = true, payload[11]
			}
		case marker > mAPP0 && marker <= mAPP15 || marker == mCOM:
			// Metadata: dropped.
		case marker < mSOF0:
			return nil, fmt.Errorf("stripping JPEG: unknown marker FF%02X: %w", marker, ErrCorrupt)
		default:
			// SOF3/5-15 (lossless, hierarchical, arithmetic), DNL, DHP,
			// EXP, JPG extensions: image/jpeg decodes none of them.
			return nil, fmt.Errorf("stripping JPEG: marker FF%02X: %w", marker, ErrUnsupportedFormat)
		}
	}
}

// scanEnd returns the offset of the first marker at or after i that is
// neither an escaped 0xFF (FF00) nor a restart marker: the end of a scan's
// entropy-coded data. It jumps from 0xFF to 0xFF with IndexByte, which
// makes walking megabytes of scan data cost almost nothing.
func scanEnd(data []byte, i int) (int, bool) {
	for {
		j := bytes.IndexByte(data[i:], 0xFF)
		if j < 0 || i+j+1 >= len(data) {
			return 0, false
		}
		i += j
		if m := data[i+1]; m != 0 && (m < mRST0 || m > mRST7) {
			return i, true
		}
		i += 2
	}
}

// assemble writes SOI, the fresh APPn segments and body, then EOI.
func assemble(body []byte, jfif, adobe bool, transform byte, comps []byte, orientation int) []byte {
	out := make([]byte, 0, len(body)+64)
	out = append(out, 0xFF, mSOI)
	// Which colour space a decoder reads, by image/jpeg's rule (libjpeg's
	// too): JFIF means Y'CbCr (or grey); else Adobe transform 0 means RGB
	// (or CMYK); else components named R, G, B are RGB.
	rgb := !jfif && (adobe && transform == 0 || string(comps) == "RGB")
	if len(comps) == 1 || len(comps) == 3 && !rgb {
		out = append(out, jfifAPP0[:]...)
	}
	if orientation >= 2 && orientation <= 8 {
		out = append(out, orientationAPP1(orientation)...)
	}
	if adobe {
		out = append(out, adobeAPP14(transform)...)
	}
	out = append(out, body...)
	return append(out, 0xFF, mEOI)
}
