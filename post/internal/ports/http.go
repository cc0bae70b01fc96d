// Package ports adapts the post service's use cases to REST (documented in
// api/openapi.yaml), gRPC (post.v1) and pub/sub.
package ports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"pixshare/contracts/media"
	"pixshare/platform/apperror"
	"pixshare/platform/auth"
	"pixshare/platform/httpserver"
	"pixshare/platform/openapi"
	"pixshare/platform/page"
	"pixshare/platform/ratelimit"
	"pixshare/post/api"
	"pixshare/post/internal/app"
	"pixshare/post/internal/domain"
)

// HTTPConfig holds the upload limits.
type HTTPConfig struct {
	// MaxUploadBytes bounds the image part.
	MaxUploadBytes int64
	// MaxParts bounds the multipart parts (image, caption, tags…).
	MaxParts int
	// Upload rate limits.
	UploadPerAccount ratelimit.Limit
	UploadPerClient  ratelimit.Limit
}

// HTTP serves the REST API.
type HTTP struct {
	svc     *app.Service
	cfg     HTTPConfig
	limiter *ratelimit.Limiter
}

// RegisterHTTP adds the post routes to rt.
func RegisterHTTP(rt *httpserver.Router, svc *app.Service, mw *auth.Middleware, limiter *ratelimit.Limiter, cfg HTTPConfig) {
	h := &HTTP{svc: svc, cfg: cfg, limiter: limiter}
	m := rt.Mux
	m.Handle("/openapi.yaml", openapi.Handler(api.OpenAPI)).Methods(http.MethodGet)
	// The multipart envelope adds a little to the image part's size.
	rt.HandleWithLimit("/v1/posts", cfg.MaxUploadBytes+64<<10, mw.Required(httpserver.Handle(h.upload))).Methods(http.MethodPost)
	m.Handle("/v1/posts", mw.Optional(httpserver.Handle(h.byAuthor))).Methods(http.MethodGet)
	m.Handle("/v1/feed", mw.Required(httpserver.Handle(h.feed))).Methods(http.MethodGet)
	m.Handle("/v1/posts/{id}", mw.Optional(httpserver.Handle(h.get))).Methods(http.MethodGet)
	m.Handle("/v1/posts/{id}", mw.Required(httpserver.Handle(h.edit))).Methods(http.MethodPatch)
	m.Handle("/v1/posts/{id}", mw.Required(httpserver.Handle(h.delete))).Methods(http.MethodDelete)
	m.Handle("/v1/posts/{id}/image", mw.Optional(httpserver.Handle(h.image))).Methods(http.MethodGet, http.MethodHead)
}

// postBody is a post as clients see it.
type postBody struct {
	ID             string            `json:"id"`
	AuthorID       string            `json:"author_id"`
	Caption        string            `json:"caption"`
	Tags           []string          `json:"tags"`
	Status         string            `json:"status"`
	ThumbnailReady bool              `json:"thumbnail_ready"`
	Indexed        bool              `json:"indexed"`
	Version        int64             `json:"version"`
	Width          int               `json:"width"`
	Height         int               `json:"height"`
	CommentCount   int64             `json:"comment_count"`
	Images         map[string]string `json:"images"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

// toBody renders a post. Width and height are the upload's until the
// thumbnailer reports the upright (EXIF-oriented) dimensions.
func toBody(p domain.Post) postBody {
	images := make(map[string]string, len(media.Sizes()))
	for _, s := range media.Sizes() {
		images[s] = "/v1/posts/" + p.ID + "/image?size=" + s
	}
	return postBody{
		ID: p.ID, AuthorID: p.AuthorID, Caption: p.Caption, Tags: p.Tags, Status: string(p.Status),
		ThumbnailReady: p.ThumbnailReady, Indexed: p.Indexed(), Version: p.Version, Width: p.Width, Height: p.Height,
		CommentCount: max(p.CommentCount, 0), Images: images, CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
	}
}

func principal(r *http.Request) (auth.Principal, error) { return auth.Require(r.Context()) }

// upload streams the multipart body: the image part is read up to the
// limit (beyond it: 413 before anything is stored), the other parts are
// small text fields, and the number of parts is bounded.
func (h *HTTP) upload(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	err = h.limiter.AllowAll(
		ratelimit.Key{Rule: "upload", Key: p.UserID, Limit: h.cfg.UploadPerAccount},
		ratelimit.Key{Rule: "upload-client", Key: ratelimit.ClientIP(r), Limit: h.cfg.UploadPerClient})
	if err != nil {
		return err
	}
	key := r.Header.Get("Idempotency-Key")
	if !validIdempotencyKey(key) {
		return apperror.Invalidf("Idempotency-Key must be 1 to 100 characters of A-Z, a-z, 0-9, '-' and '_'")
	}
	up, err := h.readUpload(r)
	if err != nil {
		return err
	}
	up.IdempotencyKey = key
	post, replayed, err := h.svc.Create(r.Context(), p.UserID, up)
	if err != nil {
		return err
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/v1/posts/"+post.ID)
	httpserver.WriteJSON(w, http.StatusAccepted, toBody(post))
	return nil
}

const maxFieldBytes = 16 << 10

// validIdempotencyKey accepts an absent key or a short token.
func validIdempotencyKey(k string) bool {
	if len(k) > 100 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (h *HTTP) readUpload(r *http.Request) (app.Upload, error) {
	var up app.Upload
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return up, apperror.New(apperror.UnsupportedMedia, "upload must be multipart/form-data with an image part")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return up, apperror.Wrap(apperror.Invalid, err, "malformed multipart body")
	}
	var gotImage bool
	for parts := 0; ; parts++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return up, bodyError(err, "malformed multipart body")
		}
		if parts >= h.cfg.MaxParts {
			return up, apperror.Invalidf("too many multipart parts (at most %d)", h.cfg.MaxParts)
		}
		switch part.FormName() {
		case "image":
			if gotImage {
				return up, apperror.Invalidf("send exactly one image part")
			}
			gotImage = true
			// The file name and the part's Content-Type are ignored: the
			// format is read from the bytes, and the key is ours.
			data, err := io.ReadAll(io.LimitReader(part, h.cfg.MaxUploadBytes+1))
			if err != nil {
				return up, bodyError(err, "could not read the image part")
			}
			if int64(len(data)) > h.cfg.MaxUploadBytes {
				return up, apperror.Newf(apperror.TooLarge, "image exceeds %d bytes", h.cfg.MaxUploadBytes)
			}
			up.Image = data
		case "caption":
			v, err := readField(part)
			if err != nil {
				return up, err
			}
			up.Caption = v
		case "tags":
			v, err := readField(part)
			if err != nil {
				return up, err
			}
			up.Tags = append(up.Tags, v)
		default:
			// Unknown parts are drained and ignored (bounded by MaxParts
			// and the body limit).
			if _, err := io.Copy(io.Discard, part); err != nil {
				return up, bodyError(err, "malformed multipart body")
			}
		}
	}
	// Read the body to its end: a body cut short after the last part (a
	// client that declared more than it sent and hung up) is refused before
	// anything is stored.
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return up, bodyError(err, "the request body ended before its declared length")
	}
	if !gotImage || len(up.Image) == 0 {
		return up, apperror.New(apperror.Unprocessable, "an image part is required").
			WithFields(apperror.FieldError{Field: "image", Message: "required"})
	}
	return up, nil
}

func readField(part io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
	if err != nil {
		return "", bodyError(err, "could not read a form field")
	}
	if len(b) > maxFieldBytes {
		return "", apperror.Newf(apperror.Unprocessable, "form fields are limited to %d bytes", maxFieldBytes)
	}
	return string(b), nil
}

// bodyError keeps the body limit's 413 and calls everything else malformed.
func bodyError(err error, msg string) error {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		return apperror.Newf(apperror.TooLarge, "request body exceeds %d bytes", maxBytes.Limit)
	}
	return apperror.Wrap(apperror.Invalid, err, msg)
}

func (h *HTTP) get(w http.ResponseWriter, r *http.Request) error {
	p, err := h.svc.Get(r.Context(), auth.ViewerID(r.Context()), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, http.StatusOK, toBody(p))
	return nil
}

func (h *HTTP) edit(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var body struct {
		Caption *string   `json:"caption"`
		Tags    *[]string `json:"tags"`
	}
	if err := httpserver.DecodeJSON(r, &body); err != nil {
		return err
	}
	edit, err := domain.NewEdit(body.Caption, body.Tags)
	if err != nil {
		return err
	}
	post, err := h.svc.Edit(r.Context(), p.UserID, mux.Vars(r)["id"], edit)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, http.StatusOK, toBody(post))
	return nil
}

func (h *HTTP) delete(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err == nil {
		err = h.svc.Delete(r.Context(), p.UserID, mux.Vars(r)["id"])
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// image serves one size. Image bytes never change for a post, so the ETag
// is the post id and size, and clients may keep them a day (privately:
// whether one may see a post depends on who asks).
func (h *HTTP) image(w http.ResponseWriter, r *http.Request) error {
	id, size := mux.Vars(r)["id"], r.URL.Query().Get("size")
	if size == "" {
		size = media.SizeOriginal
	}
	data, err := h.svc.Image(r.Context(), auth.ViewerID(r.Context()), id, size)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(id + "/" + size))
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if match := r.Header.Get("If-None-Match"); match == etag || match == "*" {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s-%s.jpg"`, id, size))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
	return nil
}

func (h *HTTP) feed(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	return h.list(w, r, func(ctx context.Context, before string, limit int) ([]domain.Post, error) {
		return h.svc.Feed(ctx, p.UserID, before, limit)
	})
}

func (h *HTTP) byAuthor(w http.ResponseWriter, r *http.Request) error {
	author := r.URL.Query().Get("author")
	if author == "" {
		return apperror.Invalidf("author is required").
			WithFields(apperror.FieldError{Field: "author", Message: "required"})
	}
	return h.list(w, r, func(ctx context.Context, before string, limit int) ([]domain.Post, error) {
		return h.svc.ByAuthor(ctx, auth.ViewerID(ctx), author, before, limit)
	})
}

func (h *HTTP) list(w http.ResponseWriter, r *http.Request, fetch func(ctx context.Context, before string, limit int) ([]domain.Post, error)) error {
	limit, before, err := page.Parse(r)
	if err != nil {
		return err
	}
	posts, err := fetch(r.Context(), before, limit+1)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, http.StatusOK, page.Make(posts, limit, func(p domain.Post) string { return p.ID }, toBody))
	return nil
}
