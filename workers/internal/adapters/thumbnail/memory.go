package thumbnail

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"pixshare/contracts/media"
)

// MemoryCost estimates, from the headers alone, how many bytes of memory
// Generate with the default sizes will allocate for original: an upper
// bound of its peak, for admitting decodes against a memory budget before
// any pixel is decoded. It fails like Generate on an upload whose header
// is unreadable, unsupported or over maxPixels (0 means DefaultMaxPixels).
//
// What it counts (see docs/images.md for the table):
//   - the decoded picture as the decoder allocates it: a JPEG's planes at
//     the DCT block size Generate will use, in whole MCUs, plus, when
//     progressive, its coefficients at 4 bytes each at full size; a PNG at
//     8 bytes a pixel for 16-bit samples and 4 for 8-bit (twice when
//     interlaced, as each pass is decoded on its own first); a GIF's first
//     frame at 1 byte a pixel; a WebP at 1.5 bytes a pixel when lossy and
//     up to 8 when lossless or for a lossy picture's alpha;
//   - the opaque copy of anything that is not Y'CbCr or grey (4 bytes a
//     pixel: alpha, RGB and CMYK JPEGs, PNG, GIF, lossless WebP);
//   - for each size, imaging's intermediate (one resize pass's output),
//     its output and an upright copy at 4 bytes a pixel, a crop's window,
//     the encoded JPEG's buffer (2 bytes a pixel, which a quality-85 photo
//     never approaches), and the filter weights;
//   - a JPEG's stripped original (twice the upload, as it is assembled),
//     or the re-encoded original of any other format and its upright copy;
//   - 1 MiB for decoder tables, buffers and the rest.
//
// Everything Generate allocates is counted as if nothing were freed before
// it returns, so the estimate is a bound on total allocation, a little
// above the peak of live memory (TestMemoryCost measures both).
func MemoryCost(original []byte, maxPixels int64) (int64, error) {
	if maxPixels == 0 {
		maxPixels = DefaultMaxPixels
	}
	info, err := media.Inspect(bytes.NewReader(original), maxPixels)
	if err != nil {
		return 0, fmt.Errorf("estimating memory: %w", err)
	}
	orientation := readOrientation(original, info.Format)
	uw, uh := upright(info.Width, info.Height, orientation)
	var targets []target
	for _, s := range Sizes() {
		t := plan(s, uw, uh)
		t.w, t.h = upright(t.w, t.h, orientation)
		targets = append(targets, t)
	}
	w, h := int64(info.Width), int64(info.Height)
	cost := int64(1 << 20)
	n := int64(8)     // the JPEG decode's block size
	var decoded int64 // bytes of the decoded picture and its opaque copy
	switch info.Format {
	case media.JPEG:
		hdr, err := readJPEGHeader(original)
		if err != nil {
			return 0, fmt.Errorf("estimating memory: %w", err)
		}
		n = int64(jpegBlockSize(info.Width, info.Height, targets))
		decoded = hdr.cost(n)
		cost += 2 * int64(len(original)) // the stripped original
	case media.PNG:
		depth, colour, interlaced := pngHeader(original)
		bpp := int64(4)
		if depth == 16 {
			bpp = 8
		}
		if colour == 0 && depth <= 8 { // grey: an *image.Gray, kept as it is
			bpp = 1
		}
		decoded = bpp * w * h
		if interlaced {
			decoded *= 2
		}
		if !(colour == 0 && depth <= 8) {
			decoded += 4 * w * h
		}
		decoded += 16*w + 64<<10 // rows being unfiltered, the inflater
	case media.GIF:
		decoded = 5*w*h + 64<<10
	case media.WebP:
		lossless, alpha := webpHeader(original)
		mbs := (w + 15) / 16 * (h + 15) / 16 * 384 // Y'CbCr, whole macroblocks
		switch {
		case lossless:
			decoded = 8*w*h + 4*w*h
		case alpha:
			decoded = mbs + 9*w*h + 4*w*h
		default:
			decoded = mbs
		}
	}
	cost += decoded
	// The sizes, from a picture of dw×dh.
	dw, dh := (w*n+7)/8, (h*n+7)/8
	for _, t := range targets {
		tw, th := int64(t.w), int64(t.h)
		srcW, srcH := dw, dh // the worst source: the decoded picture
		if t.crop {
			// The centred window of the target's shape, copied first.
			f := math.Min(float64(dw)/float64(tw), float64(dh)/float64(th))
			srcW, srcH = int64(math.Ceil(f*float64(tw))), int64(math.Ceil(f*float64(th)))
			cost += 4 * srcW * srcH
		}
		cost += 4*tw*srcH + 4*tw*th + 4*tw*th + 2*tw*th
		cost += weights(srcW, tw) + weights(srcH, th)
	}
	if info.Format != media.JPEG {
		cost += 4*w*h + 2*w*h // upright copy and encoded original
	}
	return cost, nil
}

// weights is what imaging's filter weights for a Lanczos resize from n to
// m samples take: m lists of about 6·n/m taps of 16 bytes, and a slice
// header each.
func weights(n, m int64) int64 {
	taps := 6*max(1, (n+m-1)/m) + 2
	return m * (16*taps + 24)
}

// jpegHeader is what MemoryCost needs of a JPEG's frame header.
type jpegHeader struct {
	progressive bool
	width       int64
	height      int64
	comps       []struct{ id, h, v int64 }
	jfif, adobe bool
	transform   byte
}

// cost is the bytes jpegdec allocates to decode with n×n blocks: planes
// of whole MCUs, the coefficients of a progressive picture, the
// reconstruct batches, and the conversions to RGBA or CMYK and onto white.
func (j jpegHeader) cost(n int64) int64 {
	bs := n
	h0, v0 := j.comps[0].h, j.comps[0].v
	if len(j.comps) == 1 {
		h0, v0 = 1, 1
	}
	mxx := (j.width + 8*h0 - 1) / (8 * h0)
	myy := (j.height + 8*v0 - 1) / (8 * v0)
	var planes, blocks int64
	for _, c := range j.comps {
		ch, cv := c.h, c.v
		if len(j.comps) == 1 {
			ch, cv = 1, 1
		}
		planes += bs * ch * mxx * bs * cv * myy
		blocks += mxx * myy * ch * cv
	}
	cost := planes
	if j.progressive {
		cost += blocks * 64 * 4
	} else {
		// Three batches of a row of blocks, 24 int32s each at most.
		cost += 3 * 24 * 4 * blocks / myy
	}
	pixels := (j.width*n + 7) / 8 * ((j.height*n + 7) / 8)
	rgb := !j.jfif && (j.adobe && j.transform == 0 || len(j.comps) == 3 && j.comps[0].id == 'R' && j.comps[1].id == 'G' && j.comps[2].id == 'B')
	if len(j.comps) == 4 || len(j.comps) == 3 && rgb {
		cost += 8 * pixels // an RGBA or CMYK, then onto white
	}
	return cost
}

// readJPEGHeader reads the segments before the first scan.
func readJPEGHeader(data []byte) (jpegHeader, error) {
	var j jpegHeader
	if len(data) < 2 || data[0] != 0xFF || data[1] != mSOI {
		return j, fmt.Errorf("reading JPEG header: no SOI: %w", ErrCorrupt)
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			i++
			continue
		}
		marker := data[i+1]
		if marker == 0xFF || marker == 0 || marker >= mRST0 && marker <= mRST7 {
			i += 2 - b2i(marker == 0xFF)
			continue
		}
		if marker == mSOS || marker == mEOI {
			break
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			break
		}
		p := data[i+4 : i+2+n]
		switch {
		case marker == mSOF0 || marker == mSOF1 || marker == mSOF2:
			if len(p) < 6 {
				break
			}
			j.progressive = marker == mSOF2
			j.height = int64(binary.BigEndian.Uint16(p[1:]))
			j.width = int64(binary.BigEndian.Uint16(p[3:]))
			for c := 0; c < int(p[5]) && 8+3*c < len(p); c++ {
				hv := p[7+3*c]
				j.comps = append(j.comps, struct{ id, h, v int64 }{int64(p[6+3*c]), max(1, int64(hv>>4)), max(1, int64(hv&15))})
			}
		case marker == mAPP0 && len(p) >= 5:
			j.jfif = string(p[:5]) == "JFIF\x00"
		case marker == mAPP14 && len(p) >= 12 && string(p[:5]) == "Adobe":
			j.adobe, j.transform = true, p[11]
		}
		i += 2 + n
	}
	if len(j.comps) == 0 {
		return j, fmt.Errorf("reading JPEG header: no frame header: %w", ErrCorrupt)
	}
	return j, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pngHeader returns the bit depth, colour type and interlace flag of
// IHDR (Inspect has checked that there is one).
func pngHeader(data []byte) (depth, colour byte, interlaced bool) {
	if len(data) < 29 {
		return 16, 6, true // the worst case
	}
	return data[24], data[25], data[28] == 1
}

// webpHeader tells a lossless WebP and a lossy one with alpha (VP8X's
// alpha flag) apart from a plain lossy one.
func webpHeader(data []byte) (lossless, alpha bool) {
	if len(data) < 21 {
		return true, false
	}
	switch string(data[12:16]) {
	case "VP8L":
		return true, false
	case "VP8X":
		alpha = data[20]&0x10 != 0
		return bytes.Contains(data, []byte("VP8L")), alpha
	}
	return false, false
}
