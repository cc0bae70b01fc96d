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
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"pixshare/contracts/media"
	"pixshare/contracts/stamps"
	"pixshare/platform/apperror"
	"pixshare/platform/auth"
	"pixshare/platform/cache"
	"pixshare/platform/httpserver"
	"pixshare/platform/logging"
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
	// Uploads bounds the bytes of upload bodies in flight (nil: no bound).
	Uploads *app.Budget
}

// HTTP serves the REST API.
type HTTP struct {
	svc     *app.Service
	cfg     HTTPConfig
	limiter *ratelimit.Limiter
	// authors remembers who wrote the posts this replica served (a fact
	// that never changes), to name the author's stamp up front.
	authors *cache.Local[string]
}

// RegisterHTTP adds the post routes to rt.
func RegisterHTTP(rt *httpserver.Router, svc *app.Service, mw *auth.Middleware, limiter *ratelimit.Limiter, cfg HTTPConfig) {
	h := &HTTP{svc: svc, cfg: cfg, limiter: limiter, authors: cache.NewLocal[string](50000)}
	rt.Handle("/openapi.yaml", openapi.Handler(api.OpenAPI)).Methods(http.MethodGet)
	// The multipart envelope adds a little to the image part's size.
	rt.HandleWithLimit("/v1/posts", cfg.MaxUploadBytes+64<<10, mw.Required(httpserver.Handle(h.upload))).Methods(http.MethodPost)
	rt.Handle("/v1/posts", mw.Optional(httpserver.Handle(h.byAuthor))).Methods(http.MethodGet)
	rt.Handle("/v1/feed", mw.Required(httpserver.Handle(h.feed))).Methods(http.MethodGet)
	rt.Handle("/v1/posts/{id}", h.wantPost(mw.Optional(httpserver.Handle(h.get)))).Methods(http.MethodGet)
	rt.Handle("/v1/posts/{id}", mw.Required(httpserver.Handle(h.edit))).Methods(http.MethodPatch)
	rt.Handle("/v1/posts/{id}", mw.Required(httpserver.Handle(h.delete))).Methods(http.MethodDelete)
	rt.Handle("/v1/posts/{id}/image", h.wantPost(mw.Optional(httpserver.Handle(h.image)))).Methods(http.MethodGet, http.MethodHead)
	rt.Handle("/v1/posts/{id}/like", h.wantPost(mw.Required(httpserver.Handle(h.like)))).Methods(http.MethodPut)
	rt.Handle("/v1/posts/{id}/like", h.wantPost(mw.Required(httpserver.Handle(h.unlike)))).Methods(http.MethodDelete)
	rt.Handle("/v1/posts/{id}/likes", mw.Optional(httpserver.Handle(h.likes))).Methods(http.MethodGet)
	rt.Handle("/v1/timelines/public", mw.Optional(httpserver.Handle(h.timeline))).Methods(http.MethodGet)
	rt.Handle("/v1/timelines/tag/{tag}", mw.Optional(httpserver.Handle(h.timeline))).Methods(http.MethodGet)
}

// wantPost has the request's one read of stamps include the post's stamp
// (its copy is checked against it) and, when this replica has seen the
// post before, its author's (cache.Want): the author never changes, and
// the author's summary is checked against it.
func (h *HTTP) wantPost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := mux.Vars(r)["id"]
		cache.Want(r.Context(), stamps.Post(id))
		if author, ok := h.authors.Get(id); ok {
			cache.Want(r.Context(), stamps.User(author))
		}
		next.ServeHTTP(w, r)
	})
}

// authorBody is what every item shows of its author.
type authorBody struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	AvatarURL   string `json:"avatar_url"`
}

func toAuthor(a app.Author) authorBody {
	return authorBody{ID: a.ID, Username: a.Username, DisplayName: a.DisplayName, AvatarURL: a.AvatarURL}
}

// postBody is a post as clients see it.
type postBody struct {
	ID             string            `json:"id"`
	AuthorID       string            `json:"author_id"`
	Author         authorBody        `json:"author"`
	Caption        string            `json:"caption"`
	AltText        string            `json:"alt_text"`
	Tags           []string          `json:"tags"`
	Status         string            `json:"status"`
	ThumbnailReady bool              `json:"thumbnail_ready"`
	Indexed        bool              `json:"indexed"`
	Version        int64             `json:"version"`
	Width          int               `json:"width"`
	Height         int               `json:"height"`
	CommentCount   int64             `json:"comment_count"`
	LikeCount      int64             `json:"like_count"`
	Liked          bool              `json:"liked"`
	Images         map[string]string `json:"images"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

// toBody renders a post. Width and height are the upload's until the
// thumbnailer reports the upright (EXIF-oriented) dimensions.
func toBody(v app.PostView) postBody {
	p := v.Post
	images := make(map[string]string, len(media.Sizes()))
	for _, s := range media.Sizes() {
		images[s] = "/v1/posts/" + p.ID + "/image?size=" + s
	}
	return postBody{
		ID: p.ID, AuthorID: p.AuthorID, Author: toAuthor(v.Author), Caption: p.Caption, AltText: p.AltText, Tags: p.Tags,
		Status: string(p.Status), ThumbnailReady: p.ThumbnailReady, Indexed: p.Indexed(), Version: p.Version,
		Width: p.Width, Height: p.Height, CommentCount: max(p.CommentCount, 0), LikeCount: max(p.LikeCount, 0),
		Liked: v.Liked, Images: images, CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
	}
}

// writePost renders one post for the request's viewer.
func (h *HTTP) writePost(w http.ResponseWriter, r *http.Request, status int, p domain.Post) error {
	h.authors.Set(p.ID, p.AuthorID, 24*time.Hour)
	views, err := h.svc.Present(r.Context(), auth.ViewerID(r.Context()), []domain.Post{p})
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, status, toBody(views[0]))
	return nil
}

func principal(r *http.Request) (auth.Principal, error) { return auth.Require(r.Context()) }

// upload streams the multipart body: the image part is read up to the
// limit (beyond it: 413, and nothing is stored) and streamed to the blob
// store once its header passed, the other parts are small text fields,
// and the number of parts is bounded. The body's bytes are charged to
// the upload budget before any is read.
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
	if h.cfg.Uploads != nil {
		// The declared length, or the most a body may be.
		charge := h.cfg.MaxUploadBytes + 64<<10
		if r.ContentLength >= 0 {
			charge = min(charge, r.ContentLength)
		}
		release, err := h.cfg.Uploads.Acquire(r.Context(), charge)
		if err != nil {
			return err
		}
		defer release()
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
	return h.writePost(w, r, http.StatusAccepted, post)
}

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

// readUpload reads the form up to its image part; the service streams the
// image and then has the form read to its end (Finish), taking the text
// fields sent after the image.
func (h *HTTP) readUpload(r *http.Request) (app.Upload, error) {
	form, err := httpserver.OpenForm(r, httpserver.FormLimits{
		FileField: "image", MaxFileBytes: h.cfg.MaxUploadBytes, MaxParts: h.cfg.MaxParts, MaxFieldBytes: 16 << 10,
	}, "caption", "tags", "alt_text")
	if err != nil {
		return app.Upload{}, err
	}
	fields := func(up *app.Upload) {
		up.Caption, up.AltText, up.Tags = form.Field("caption"), form.Field("alt_text"), form.Fields["tags"]
	}
	up := app.Upload{Image: form.File, Finish: func(up *app.Upload) error {
		if err := form.Finish(); err != nil {
			return err
		}
		fields(up)
		return nil
	}}
	fields(&up)
	return up, nil
}

// get answers a post. With "Prefer: wait=N" (RFC 7240) a post still
// processing is answered once its processing moved on, or after N seconds
// at most: a client waiting for its upload asks again at once instead of
// polling. "Preference-Applied" says the read was allowed to wait.
func (h *HTTP) get(w http.ResponseWriter, r *http.Request) error {
	wait, ok := httpserver.PreferWait(r.Header)
	if ok {
		w.Header().Add("Vary", httpserver.HeaderPrefer)
	}
	p, applied, err := h.svc.GetAfterProgress(r.Context(), auth.ViewerID(r.Context()), mux.Vars(r)["id"], wait)
	if err != nil {
		return err
	}
	if applied > 0 {
		w.Header().Set(httpserver.HeaderPreferenceApplied, "wait="+strconv.Itoa(int(applied/time.Second)))
	}
	return h.writePost(w, r, http.StatusOK, p)
}

func (h *HTTP) edit(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var body struct {
		Caption *string   `json:"caption"`
		AltText *string   `json:"alt_text"`
		Tags    *[]string `json:"tags"`
	}
	if err := httpserver.DecodeJSON(r, &body); err != nil {
		return err
	}
	edit, err := domain.NewEdit(body.Caption, body.AltText, body.Tags)
	if err != nil {
		return err
	}
	post, err := h.svc.Edit(r.Context(), p.UserID, mux.Vars(r)["id"], edit)
	if err != nil {
		return err
	}
	return h.writePost(w, r, http.StatusOK, post)
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
	p, err := h.svc.ImagePost(r.Context(), auth.ViewerID(r.Context()), id, size)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(id + "/" + size))
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if match := r.Header.Get("If-None-Match"); match == etag || match == "*" {
		// Checked for this viewer, but the bytes are never opened: a
		// revalidation costs no blob read.
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	img, err := h.svc.OpenImage(r.Context(), p, size)
	if err != nil {
		return err
	}
	defer func() { _ = img.Close() }()
	w.Header().Set("Content-Type", "image/jpeg")
	if img.Length >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(img.Length, 10))
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s-%s.jpg"`, id, size))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		// Streamed from the sidecar's answer: a client that stops
		// reading holds one buffer, not the image. The status is sent,
		// so a failure half-way can only cut the answer short: the
		// connection is broken off, and the client sees a truncated
		// answer, never a complete-looking one.
		if err := copyImage(w, img, img.Length); err != nil {
			// The request's logger (the middleware puts it in the context).
			logging.FromContext(r.Context(), zap.NewNop()).Warn("image answer broken off",
				zap.String("post_id", id), zap.String("size", size), zap.Error(err))
			panic(http.ErrAbortHandler)
		}
	}
	return nil
}

// copyImage copies img to w. With a known length, exactly length bytes
// must come: the last byte is held back until the end of img is seen, so
// a blob longer or shorter than announced never reaches the client as a
// whole answer.
func copyImage(w io.Writer, img io.Reader, length int64) error {
	if length < 0 {
		_, err := io.Copy(w, img)
		return err
	}
	if length == 0 {
		return atEnd(img)
	}
	if n, err := io.CopyN(w, img, length-1); err != nil {
		return fmt.Errorf("copied %d of %d bytes: %w", n, length, err)
	}
	var last [1]byte
	if _, err := io.ReadFull(img, last[:]); err != nil {
		return fmt.Errorf("copied %d of %d bytes: %w", length-1, length, err)
	}
	if err := atEnd(img); err != nil {
		return err
	}
	_, err := w.Write(last[:])
	return err
}

// atEnd reports an error unless r has nothing more to give.
func atEnd(r io.Reader) error {
	var b [1]byte
	for range 100 {
		n, err := r.Read(b[:])
		switch {
		case n > 0:
			return errors.New("the blob is longer than its recorded length")
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		}
	}
	return io.ErrNoProgress
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
	more := len(posts) > limit
	if more {
		posts = posts[:limit]
	}
	views, err := h.svc.Present(r.Context(), auth.ViewerID(r.Context()), posts)
	if err != nil {
		return err
	}
	if more {
		// page.Make sees one more item than it shows and cuts it off.
		views = append(views, app.PostView{Post: posts[len(posts)-1]})
	}
	httpserver.WriteJSON(w, http.StatusOK, page.Make(views, limit, func(v app.PostView) string { return v.ID }, toBody))
	return nil
}

func (h *HTTP) like(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err == nil {
		err = h.svc.Like(r.Context(), p.UserID, mux.Vars(r)["id"])
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *HTTP) unlike(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err == nil {
		err = h.svc.Unlike(r.Context(), p.UserID, mux.Vars(r)["id"])
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// likes lists who liked a post, as author summaries.
func (h *HTTP) likes(w http.ResponseWriter, r *http.Request) error {
	limit, before, err := page.Parse(r)
	if err != nil {
		return err
	}
	likes, err := h.svc.Likes(r.Context(), auth.ViewerID(r.Context()), mux.Vars(r)["id"], before, limit+1)
	if err != nil {
		return err
	}
	shown := likes[:min(len(likes), limit)]
	authors, err := h.svc.LikerViews(r.Context(), shown)
	if err != nil {
		return err
	}
	type liker struct {
		like   domain.Like
		author app.Author
	}
	items := make([]liker, len(likes))
	for i, l := range likes {
		items[i] = liker{like: l}
		if i < len(authors) {
			items[i].author = authors[i]
		}
	}
	httpserver.WriteJSON(w, http.StatusOK, page.Make(items, limit, func(l liker) string { return l.like.ID },
		func(l liker) authorBody { return toAuthor(l.author) }))
	return nil
}

// timeline serves the public timeline and, with {tag}, a tag's.
func (h *HTTP) timeline(w http.ResponseWriter, r *http.Request) error {
	tag, tagged := mux.Vars(r)["tag"]
	if tagged && tag == "" {
		return apperror.Invalidf("tag is required")
	}
	return h.list(w, r, func(ctx context.Context, before string, limit int) ([]domain.Post, error) {
		return h.svc.Timeline(ctx, auth.ViewerID(ctx), tag, before, limit)
	})
}
