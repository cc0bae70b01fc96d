package e2e

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// --- crafted files ---------------------------------------------------------

// jpegSOF is a JPEG whose frame header declares w×h (a pixel bomb: a few
// bytes that would decode to gigabytes).
func jpegSOF(w, h int) []byte {
	b := []byte{0xFF, 0xD8}
	b = append(b, 0xFF, 0xC0, 0x00, 0x11, 0x08, byte(h>>8), byte(h), byte(w>>8), byte(w), 0x03,
		0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01)
	return append(b, 0xFF, 0xD9)
}

// gifScreen is a GIF whose logical screen is w×h with one 1×1 frame.
func gifScreen(w, h int) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, uint16(w))
	b = binary.LittleEndian.AppendUint16(b, uint16(h))
	b = append(b, 0x80, 0, 0, 0, 0, 0, 255, 255, 255)
	b = append(b, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0)
	b = append(b, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B)
	return b
}

// webpCanvas is an extended WebP (VP8X) declaring a w×h canvas.
func webpCanvas(w, h int) []byte {
	chunk := []byte("VP8X")
	chunk = binary.LittleEndian.AppendUint32(chunk, 10)
	chunk = append(chunk, 0, 0, 0, 0)
	chunk = append(chunk, byte(w-1), byte((w-1)>>8), byte((w-1)>>16), byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+len(chunk)))
	b = append(b, "WEBP"...)
	return append(b, chunk...)
}

// smallJPEG encodes a w×h gradient.
func smallJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func smallGIF(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
	for i := range img.Pix {
		img.Pix[i] = uint8(i % 200)
	}
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// manyFrames is an animated GIF of n tiny frames.
func manyFrames(t *testing.T, n int) []byte {
	t.Helper()
	pal := color.Palette{color.Black, color.White}
	anim := &gif.GIF{}
	for i := range n {
		f := image.NewPaletted(image.Rect(0, 0, 4, 4), pal)
		f.Pix[i%16] = 1
		anim.Image = append(anim.Image, f)
		anim.Delay = append(anim.Delay, 1)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, anim); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const htmlPayload = `<html><body><script>alert(document.cookie)</script></body></html>`

// jpegHTML is a valid JPEG carrying HTML/JS twice: in a comment segment
// right after SOI, and appended after EOI.
func jpegHTML(t *testing.T) []byte {
	t.Helper()
	j := smallJPEG(t, 64, 48)
	com := []byte{0xFF, 0xFE, 0, 0}
	binary.BigEndian.PutUint16(com[2:], uint16(2+len(htmlPayload)))
	com = append(com, htmlPayload...)
	out := append([]byte{}, j[:2]...)
	out = append(out, com...)
	out = append(out, j[2:]...)
	return append(out, htmlPayload...)
}

// gifar is a valid GIF with a ZIP (a Java archive) appended.
func gifar(t *testing.T) []byte {
	t.Helper()
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	for name, body := range map[string]string{
		"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\nMain-Class: Evil\n",
		"Evil.class":           "\xca\xfe\xba\xbe not really",
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return append(smallGIF(t, 32, 32), z.Bytes()...)
}

const svgScript = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)">
<script type="text/javascript">alert(document.cookie)</script>
<rect width="10" height="10"/></svg>`

// --- raw connections -------------------------------------------------------

// rawResult is what a hand-written exchange got: a response, or a closed
// connection.
type rawResult struct {
	status int
	header http.Header
	body   []byte
	closed error // non-nil when the connection closed without a response
}

// rawExchange writes head and then body on a fresh connection to the
// gateway (concurrently with reading, so an early answer is seen), closes
// the write side when halfClose is set, and reads one response. A
// connection that stays silent for 30 s fails the test: that is a hang.
func rawExchange(t *testing.T, gateway string, head string, body io.Reader, halfClose bool) rawResult {
	t.Helper()
	u, err := url.Parse(gateway)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		w := bufio.NewWriterSize(conn, 64<<10)
		_, _ = io.WriteString(w, head)
		if body != nil {
			_, _ = io.Copy(w, body)
		}
		_ = w.Flush()
		if halfClose {
			_ = conn.(*net.TCPConn).CloseWrite()
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("no answer and no close within 30 s: the server hangs")
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
			return rawResult{closed: err}
		}
		t.Fatalf("reading the response: %v", err)
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	_ = res.Body.Close()
	return rawResult{status: res.StatusCode, header: res.Header, body: b}
}

// want4xxOrClosed accepts a 4xx problem or a closed connection.
func want4xxOrClosed(t *testing.T, what string, r rawResult, want ...int) {
	t.Helper()
	if r.closed != nil {
		t.Logf("%s: connection closed without a response (%v)", what, r.closed)
		return
	}
	checkShape(t, what, resp{Status: r.status, Header: r.header, Body: r.body})
	if r.status < 400 || r.status >= 500 || len(want) > 0 && !slices.Contains(want, r.status) {
		t.Fatalf("%s: status %d, want a 4xx %v or a closed connection: %s", what, r.status, want, shorten(string(r.body)))
	}
	t.Logf("%s: %d %s", what, r.status, shorten(string(r.body)))
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// chunked encodes r as HTTP/1.1 chunks of 64 KiB.
func chunked(r io.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if _, werr := fmt.Fprintf(pw, "%x\r\n%s\r\n", n, buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				_, _ = io.WriteString(pw, "0\r\n\r\n")
				_ = pw.Close()
				return
			}
		}
	}()
	return pr
}

// imageFiles lists the files the images binding holds, relative to its
// root (.data/images of the stack).
func imageFiles(t *testing.T, s *Stack) []string {
	t.Helper()
	root := filepath.Join(s.Root, ".data", "images")
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAttackUploads: pixel bombs, frame floods, polyglots, lying types and
// lengths, part floods, path names and oversized bodies.
func TestAttackUploads(t *testing.T) {
	s, c := startAttackStack(t)
	mallory := register(t, c, "upmallory")
	viewer := register(t, c, "upviewer")
	jpegOK := smallJPEG(t, 80, 60)
	var accepted []string // ids of the posts the server accepted
	var broken []string   // accepted ids whose pixels cannot be decoded
	var leaked []string   // ids stored by requests that were not answered 202

	refuse := func(t *testing.T, what string, r resp, want ...int) {
		t.Helper()
		wantProblem(t, what, r, want...)
	}
	imagePart := func(data []byte, ct string) []part {
		return []part{{name: "caption", data: []byte("attack")}, {name: "image", filename: "x.jpg", contentType: ct, data: data}}
	}

	// Pixel bombs: refused from the header alone, before any pixel is
	// allocated. The bound below only tells a refusal from a decode that
	// runs for minutes (or kills the process); it is not a timing goal.
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"bomb.png (40000x40000)", photo(t, "bomb.png")},
		{"JPEG SOF 65000x65000", jpegSOF(65000, 65000)},
		{"GIF screen 65535x65535", gifScreen(65535, 65535)},
		{"WebP VP8X canvas 16384x16384", webpCanvas(16384, 16384)},
	} {
		t.Run("pixel bomb "+tc.name, func(t *testing.T) {
			start := time.Now()
			r := mallory.c.uploadParts(t, imagePart(tc.data, "image/jpeg"), nil)
			elapsed := time.Since(start)
			refuse(t, tc.name, r, 422)
			t.Logf("refused in %s: %s", elapsed.Round(time.Millisecond), shorten(string(r.Body)))
			if elapsed > 15*time.Second {
				t.Fatalf("a header-only refusal took %s", elapsed)
			}
		})
	}

	t.Run("GIF with 3000 frames", func(t *testing.T) {
		data := manyFrames(t, 3000)
		r := mallory.c.uploadParts(t, imagePart(data, "image/gif"), nil)
		wantStatus(t, "3000-frame GIF", r, 202, 413, 415, 422)
		if r.Status != 202 {
			t.Logf("refused: %d %s", r.Status, r.Body)
			return
		}
		id := jsonOf(t, r)["id"].(string)
		accepted = append(accepted, id)
		st := mallory.c.waitSettled(t, id, 90*time.Second)
		t.Logf("3000-frame GIF (%d bytes) settled as %s", len(data), st)
	})

	// Polyglots: refused, or accepted and only ever served as re-encoded
	// JPEG with nosniff.
	type polyglot struct {
		name     string
		data     []byte
		ct       string
		mustFail bool
		markers  []string
	}
	var toCheck []struct {
		id      string
		markers []string
	}
	for _, tc := range []polyglot{
		{"JPEG magic then HTML/JS", append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, htmlPayload...), "image/jpeg", true, nil},
		{"valid JPEG with HTML/JS in a comment and after EOI", jpegHTML(t), "image/jpeg", false, []string{"<script", "<html"}},
		{"GIFAR (GIF + ZIP)", gifar(t), "image/gif", false, []string{"PK\x03\x04", "META-INF"}},
		{"SVG with <script>", []byte(svgScript), "image/svg+xml", true, nil},
		{"HTML named .jpg", []byte(htmlPayload), "image/jpeg", true, nil},
		{"PDF", []byte("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF"), "image/png", true, nil},
		{"BMP", append([]byte("BM"), make([]byte, 60)...), "image/bmp", true, nil},
	} {
		t.Run("polyglot "+tc.name, func(t *testing.T) {
			r := mallory.c.uploadParts(t, imagePart(tc.data, tc.ct), nil)
			if tc.mustFail {
				refuse(t, tc.name, r, 415, 422)
				return
			}
			wantStatus(t, tc.name, r, 202, 415, 422)
			if r.Status != 202 {
				checkShape(t, tc.name, r)
				return
			}
			id := jsonOf(t, r)["id"].(string)
			accepted = append(accepted, id)
			toCheck = append(toCheck, struct {
				id      string
				markers []string
			}{id, tc.markers})
		})
	}

	// The part's Content-Type and file name are never trusted: the bytes
	// decide.
	t.Run("part says image/png, bytes are text", func(t *testing.T) {
		refuse(t, "text as image/png", mallory.c.uploadParts(t, imagePart(photo(t, "not-an-image.txt"), "image/png"), nil), 415)
	})
	t.Run("part says text/plain, bytes are a JPEG", func(t *testing.T) {
		r := mallory.c.uploadParts(t, imagePart(jpegOK, "text/plain"), nil)
		wantStatus(t, "JPEG as text/plain", r, 202)
		accepted = append(accepted, jsonOf(t, r)["id"].(string))
	})
	t.Run("corrupt and empty images", func(t *testing.T) {
		// A header that reads well with broken pixel data passes the
		// header-only check at upload (202) and must end as failed, never
		// stuck and never served.
		for name, data := range map[string][]byte{"corrupt.jpg": photo(t, "corrupt.jpg"), "truncated JPEG": jpegOK[:len(jpegOK)/3]} {
			r := mallory.c.uploadParts(t, imagePart(data, "image/jpeg"), nil)
			wantStatus(t, name, r, 202, 422)
			if r.Status == 202 {
				id := jsonOf(t, r)["id"].(string)
				accepted = append(accepted, id)
				broken = append(broken, id)
			}
		}
		refuse(t, "empty image part", mallory.c.uploadParts(t, imagePart(nil, "image/jpeg"), nil), 400, 415, 422)
		refuse(t, "no image part", mallory.c.uploadParts(t, []part{{name: "caption", data: []byte("x")}}, nil), 400, 422)
		refuse(t, "two image parts", mallory.c.uploadParts(t, append(imagePart(jpegOK, ""), part{name: "image", filename: "b.jpg", data: jpegOK}), nil), 400, 422)
	})
	t.Run("not multipart", func(t *testing.T) {
		refuse(t, "JSON upload", mallory.c.do(t, "POST", "/v1/posts", map[string]string{"image": "aGVsbG8="}), 415)
		refuse(t, "raw JPEG body", mallory.c.req(t, "POST", "/v1/posts", jpegOK, http.Header{"Content-Type": {"image/jpeg"}}), 415)
		refuse(t, "multipart without boundary", mallory.c.req(t, "POST", "/v1/posts", jpegOK, http.Header{"Content-Type": {"multipart/form-data"}}), 400, 415)
		refuse(t, "multipart with a wrong boundary", mallory.c.req(t, "POST", "/v1/posts", jpegOK, http.Header{"Content-Type": {"multipart/form-data; boundary=nope"}}), 400, 422)
	})
	t.Run("hostile Idempotency-Key", func(t *testing.T) {
		for _, k := range []string{"../../etc/passwd", strings.Repeat("k", 101), "a b", "key'; DROP TABLE posts; --"} {
			refuse(t, "Idempotency-Key "+k, mallory.c.uploadParts(t, imagePart(jpegOK, ""), http.Header{"Idempotency-Key": {k}}), 400)
		}
	})

	t.Run("thousands of multipart parts", func(t *testing.T) {
		parts := imagePart(photo(t, "small.png"), "image/png")
		for i := range 3000 {
			parts = append(parts, part{name: fmt.Sprintf("f%d", i), data: []byte("a")})
		}
		refuse(t, "3000 parts", mallory.c.uploadParts(t, parts, nil), 400)
		tags := imagePart(photo(t, "small.png"), "image/png")
		for range 3000 {
			tags = append(tags, part{name: "tags", data: []byte("t")})
		}
		refuse(t, "3000 tags parts", mallory.c.uploadParts(t, tags, nil), 400, 422)
	})

	t.Run("file names that climb out", func(t *testing.T) {
		for _, name := range []string{"../../../etc/passwd", `..\..\..\windows\win.ini`, "/etc/passwd", "../../.data/user.db", "....//....//etc/passwd"} {
			r := mallory.c.uploadParts(t, []part{{name: "image", filename: name, contentType: "image/jpeg", data: jpegOK}}, nil)
			wantStatus(t, "file name "+name, r, 202)
			id := jsonOf(t, r)["id"].(string)
			accepted = append(accepted, id)
		}
	})

	// Lying Content-Length, written by hand (a Go client would not lie).
	t.Run("Content-Length smaller than the body", func(t *testing.T) {
		ct, body := multipartBody(t, imagePart(jpegOK, "image/jpeg"))
		head := fmt.Sprintf("POST /v1/posts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", mallory.token, ct, 100)
		want4xxOrClosed(t, "upload declaring 100 bytes", rawExchange(t, s.Gateway, head, bytes.NewReader(body), false))
		reg := []byte(`{"username":"uplenshort","email":"uplenshort@example.com","password":"` + attackPassword + `"}`)
		head = fmt.Sprintf("POST /v1/users/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 20)
		want4xxOrClosed(t, "register declaring 20 bytes", rawExchange(t, s.Gateway, head, bytes.NewReader(reg), false))
	})
	// Regression: a body that ended before its Content-Length used to get
	// a 503 or a bare 499 from the gateway while the post service, which
	// stopped reading at the closing boundary, stored the post anyway. The
	// gateway answers 400 now, and post reads bodies to their end before
	// storing anything.
	t.Run("Content-Length larger than the body: upload", func(t *testing.T) {
		before := idsOf(t, mallory.c.expect(t, "GET", "/v1/posts?author="+mallory.id+"&limit=100", nil, 200))
		ct, body := multipartBody(t, imagePart(jpegOK, "image/jpeg"))
		head := fmt.Sprintf("POST /v1/posts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", mallory.token, ct, len(body)+10000)
		r := rawExchange(t, s.Gateway, head, bytes.NewReader(body), true)
		// The answer is not a 202, so nothing may be stored.
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			for _, id := range idsOf(t, mallory.c.expect(t, "GET", "/v1/posts?author="+mallory.id+"&limit=100", nil, 200)) {
				if !slices.Contains(before, id) && !slices.Contains(leaked, id) {
					leaked = append(leaked, id)
					t.Errorf("the truncated upload (answered %d%v) stored post %s", r.status, r.closed, id)
				}
			}
		}
		want4xxOrClosed(t, "upload declaring 10000 bytes more", r)
	})
	t.Run("Content-Length larger than the body: register", func(t *testing.T) {
		reg := []byte(`{"username":"uplenlong","email":"uplenlong@example.com","password":"` + attackPassword + `"}`)
		head := fmt.Sprintf("POST /v1/users/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(reg)+500)
		r := rawExchange(t, s.Gateway, head, bytes.NewReader(reg), true)
		time.Sleep(time.Second)
		if l := c.do(t, "POST", "/v1/users/login", map[string]string{"username": "uplenlong", "password": attackPassword}); l.Status != 401 {
			t.Errorf("the truncated registration (answered %d%v) created an account: login %d", r.status, r.closed, l.Status)
		}
		want4xxOrClosed(t, "register declaring 500 bytes more", r)
	})

	// Bodies over the upload limit (20 MiB): the gateway refuses them.
	t.Run("body over 20 MiB with Content-Length", func(t *testing.T) {
		const size = 22 << 20
		head := fmt.Sprintf("POST /v1/posts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n", mallory.token, size)
		body := io.MultiReader(strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\r\n\xff\xd8\xff"), io.LimitReader(zeros{}, size))
		r := rawExchange(t, s.Gateway, head, io.LimitReader(body, size), false)
		if r.closed != nil {
			t.Fatalf("connection closed without the 413: %v", r.closed)
		}
		want4xxOrClosed(t, "22 MiB declared", r, 413)
	})
	t.Run("body over 20 MiB chunked", func(t *testing.T) {
		head := fmt.Sprintf("POST /v1/posts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n", mallory.token)
		body := io.MultiReader(strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\r\n\xff\xd8\xff"), io.LimitReader(zeros{}, 25<<20))
		r := rawExchange(t, s.Gateway, head, chunked(body), false)
		if r.closed != nil {
			t.Fatalf("connection closed without the 413: %v", r.closed)
		}
		want4xxOrClosed(t, "25 MiB chunked", r, 413)
	})
	t.Run("image part over 20 MiB inside the gateway's limit", func(t *testing.T) {
		big := append(append([]byte{}, jpegOK[:len(jpegOK)-2]...), make([]byte, 20<<20)...)
		refuse(t, "20 MiB + image", mallory.c.uploadParts(t, imagePart(big, "image/jpeg"), nil), 413)
	})

	// Accepted uploads settle, and are only ever served as JPEG with
	// nosniff, with none of the smuggled content.
	t.Run("accepted uploads are served as inert JPEG", func(t *testing.T) {
		for _, id := range accepted {
			st := mallory.c.waitSettled(t, id, 90*time.Second)
			if slices.Contains(broken, id) {
				if st != "failed" {
					t.Errorf("undecodable upload %s settled as %s, want failed", id, st)
				}
				r := viewer.c.do(t, "GET", "/v1/posts/"+id+"/image?size=original", nil)
				wantProblem(t, "image of a failed post", r, 404)
			}
		}
		for _, pc := range toCheck {
			// Each of these is a whole, valid picture with something
			// smuggled around it: it must be made ready, and what is
			// served must have lost the smuggled part.
			if st := mallory.c.waitSettled(t, pc.id, 90*time.Second); st != "ready" {
				t.Errorf("polyglot %s settled as %s, want ready", pc.id, st)
				continue
			}
			for _, size := range []string{"thumb", "original"} {
				r := viewer.c.expect(t, "GET", "/v1/posts/"+pc.id+"/image?size="+size, nil, 200)
				if ct := r.Header.Get("Content-Type"); ct != "image/jpeg" {
					t.Errorf("%s %s served as %q", pc.id, size, ct)
				}
				if r.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("%s %s served without nosniff", pc.id, size)
				}
				if !bytes.HasPrefix(r.Body, []byte{0xFF, 0xD8, 0xFF}) {
					t.Errorf("%s %s is not a JPEG", pc.id, size)
				}
				for _, m := range pc.markers {
					if bytes.Contains(r.Body, []byte(m)) {
						t.Errorf("%s %s still carries %q: the smuggled content is served", pc.id, size, m)
					}
				}
			}
		}
	})

	t.Run("storage holds only the accepted posts, under the server's keys", func(t *testing.T) {
		files := imageFiles(t, s)
		uploads := map[string]bool{}
		for _, f := range files {
			switch {
			case strings.HasPrefix(f, "uploads/"):
				uploads[strings.TrimPrefix(f, "uploads/")] = true
			case strings.HasPrefix(f, "renditions/"):
				id, _, _ := strings.Cut(strings.TrimPrefix(f, "renditions/"), "/")
				if !slices.Contains(accepted, id) && !slices.Contains(leaked, id) {
					t.Errorf("renditions of a post that was never accepted: %s", f)
				}
			default:
				t.Errorf("a stored file outside uploads/ and renditions/: %s", f)
			}
		}
		for _, id := range accepted {
			if !uploads[id] {
				t.Errorf("accepted post %s has no original at uploads/%s (files: %v)", id, id, files)
			}
			delete(uploads, id)
		}
		for k := range uploads {
			if slices.Contains(leaked, k) {
				t.Logf("uploads/%s is the post the truncated upload stored (failed above)", k)
				continue
			}
			t.Errorf("an original nobody accepted is stored: uploads/%s", k)
		}
		// Nothing named after a client's file name exists anywhere.
		_ = filepath.WalkDir(s.Root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (d.Name() == "passwd" || d.Name() == "win.ini") {
				t.Errorf("a client-named file exists: %s", p)
			}
			return nil
		})
		if _, err := os.Stat(filepath.Join(filepath.Dir(s.Root), "etc", "passwd")); err == nil {
			t.Errorf("a file was written outside the stack's directory")
		}
		// The author's list holds exactly the accepted posts.
		got := slices.DeleteFunc(idsOf(t, mallory.c.expect(t, "GET", "/v1/posts?author="+mallory.id+"&limit=100", nil, 200)),
			func(id string) bool { return slices.Contains(leaked, id) }) // reported above
		slices.Sort(got)
		want := slices.Clone(accepted)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("mallory's posts = %v, want exactly the accepted %v", got, want)
		}
	})

	stillReady(t, c)
}
