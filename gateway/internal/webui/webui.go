// Package webui serves the web client: the single-page app in web/, built
// by `make web` into dist/ (committed, so building the gateway needs only
// Go) and embedded here. Hashed assets under /assets/ are cached for a
// year; every other path that is not the API's (/v1/…), the API document,
// the explorer or a probe answers index.html, so the client's own routes
// (/p/{id}, /u/{id}, /settings…) survive a reload. Every response carries
// a strict Content-Security-Policy and the other security headers.
package webui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"pixshare/platform/apperror"
	"pixshare/platform/httpserver"
)

//go:embed all:dist
var dist embed.FS

// CSP allows the client's own files and API only: no inline script or
// style, no eval, no other origin, no plugins, no framing, no <base>.
// Pictures may also be blob: (the preview of a file chosen for upload) and
// data:. Trusted Types with no policy make every HTML-string sink
// (innerHTML and the like) throw, so user text can only ever be text.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"font-src 'self'; connect-src 'self'; media-src 'none'; object-src 'none'; frame-src 'none'; " +
	"worker-src 'none'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// SecurityHeaders sets the headers every response of the client carries.
func SecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// frame-ancestors for browsers that predate it.
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
}

const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
	cacheDay        = "public, max-age=86400"
)

type file struct {
	name  string
	ctype string
	etag  string
	data  []byte
	// gz is the gzip-compressed data, when that is smaller.
	gz []byte
}

// Handler serves the files of a built client.
type Handler struct {
	files  map[string]*file
	index  *file
	logger *zap.Logger
}

// New reads every file of a built client (fsys holds index.html at its
// root) into memory.
func New(fsys fs.FS, logger *zap.Logger) (*Handler, error) {
	h := &Handler{files: map[string]*file{}, logger: logger}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		h.files[name] = newFile(name, data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web client: %w", err)
	}
	h.index = h.files["index.html"]
	if h.index == nil {
		return nil, errors.New("web client: no index.html in the bundle (run make web)")
	}
	return h, nil
}

// Embedded returns the handler of the client built into this binary.
func Embedded(logger *zap.Logger) (*Handler, error) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, err
	}
	return New(sub, logger)
}

var types = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".json":  "application/json",
	".txt":   "text/plain; charset=utf-8",
	".woff2": "font/woff2",
}

func newFile(name string, data []byte) *file {
	ext := path.Ext(name)
	ctype := types[ext]
	if ctype == "" {
		ctype = mime.TypeByExtension(ext)
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	sum := sha256.Sum256(data)
	f := &file{name: name, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, data: data}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(data)
	_ = zw.Close()
	if buf.Len() < len(data)*9/10 {
		f.gz = buf.Bytes()
	}
	return f
}

// IsClientPath reports whether path belongs to the client rather than to
// the gateway's own routes: the API, its document and explorer, probes.
func IsClientPath(p string) bool {
	switch {
	case p == "/v1", strings.HasPrefix(p, "/v1/"),
		p == "/docs", strings.HasPrefix(p, "/docs/"),
		p == "/openapi.yaml", p == "/healthz", p == "/readyz":
		return false
	}
	return true
}

// Register serves the embedded client for every client path (GET and
// HEAD), after the routes registered before it.
func Register(rt *httpserver.Router, logger *zap.Logger) error {
	h, err := Embedded(logger)
	if err != nil {
		return err
	}
	h.Route(rt.Mux)
	return nil
}

// Route adds h to m for every client path.
func (h *Handler) Route(m *mux.Router) {
	m.MatcherFunc(func(r *http.Request, _ *mux.RouteMatch) bool { return IsClientPath(r.URL.Path) }).
		Methods(http.MethodGet, http.MethodHead).
		Handler(h)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	SecurityHeaders(w.Header())
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if f, ok := h.files[name]; ok && f != h.index {
		cache := cacheDay
		if strings.HasPrefix(name, "assets/") {
			// Named after a hash of their content: a new build is a new name.
			cache = cacheImmutable
		}
		h.serve(w, r, f, cache)
		return
	}
	if strings.HasPrefix(name, "assets/") {
		// A missing asset is not a page: answering index.html would hand
		// the browser HTML where it expects a script.
		httpserver.WriteError(w, r, h.logger, apperror.NotFoundf("no asset %s", r.URL.Path))
		return
	}
	// Any other path is a screen of the client: index.html, revalidated on
	// every load so a new build shows at once.
	h.serve(w, r, h.index, cacheRevalidate)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, f *file, cache string) {
	hdr := w.Header()
	hdr.Set("Content-Type", f.ctype)
	hdr.Set("Cache-Control", cache)
	data, etag := f.data, f.etag
	if f.gz != nil {
		hdr.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			hdr.Set("Content-Encoding", "gzip")
			data, etag = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
		}
	}
	hdr.Set("ETag", etag)
	// ServeContent answers If-None-Match with 304, HEAD without a body, and
	// ranges; the zero time leaves Last-Modified out (the ETag is enough).
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(data))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			q, err := strconv.ParseFloat(v, 64)
			return err == nil && q > 0
		}
		return true
	}
	return false
}
