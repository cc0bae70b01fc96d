package ports

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"pixshare/contracts/media"
	"pixshare/platform/apperror"
	"pixshare/platform/auth"
	"pixshare/platform/httpserver"
)

// AvatarLimits bound avatar uploads.
type AvatarLimits struct {
	MaxBytes int64
}

// putAvatar takes a new avatar (multipart `image`): it is made into every
// size by the thumbnailer, and replaces the current one when ready.
func (h *HTTP) putAvatar(w http.ResponseWriter, r *http.Request) error {
	p, err := caller(r)
	if err != nil {
		return err
	}
	if err := h.limiter.Allow("avatar", p.UserID, h.limits.Avatar); err != nil {
		return err
	}
	form, err := httpserver.ReadForm(r, httpserver.FormLimits{FileField: "image", MaxFileBytes: h.avatars.MaxBytes, MaxParts: 4, MaxFieldBytes: 1 << 10})
	if err != nil {
		return err
	}
	u, err := h.svc.PutAvatar(r.Context(), p.UserID, form.File)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, http.StatusAccepted, toMe(u))
	return nil
}

func (h *HTTP) deleteAvatar(w http.ResponseWriter, r *http.Request) error {
	p, err := caller(r)
	if err == nil {
		err = h.svc.RemoveAvatar(r.Context(), p.UserID)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// avatar serves one size of a user's avatar. What is behind a version
// never changes, so the ETag is the version and size; the URL carries the
// version (?v=), so clients may keep it long.
func (h *HTTP) avatar(w http.ResponseWriter, r *http.Request) error {
	size := r.URL.Query().Get("size")
	if size == "" {
		size = media.AvatarSmall
	}
	if !media.ValidAvatarSize(size) {
		return apperror.Invalidf("size must be one of thumb, small, medium").
			WithFields(apperror.FieldError{Field: "size", Message: "unknown size"})
	}
	id := mux.Vars(r)["id"]
	data, version, err := h.svc.Avatar(r.Context(), auth.ViewerID(r.Context()), id, size)
	if err != nil {
		return err
	}
	etag := fmt.Sprintf(`"%s-%d-%s"`, id, version, size)
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if match := r.Header.Get("If-None-Match"); match == etag || match == "*" {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
	return nil
}
