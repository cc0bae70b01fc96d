// Package ports serves the search service's REST API (api/openapi.yaml).
package ports

import (
	"net/http"
	"strconv"
	"time"

	"pixshare/contracts/media"
	"pixshare/platform/apperror"
	"pixshare/platform/auth"
	"pixshare/platform/httpserver"
	"pixshare/platform/openapi"
	"pixshare/platform/page"
	"pixshare/search/api"
	"pixshare/search/internal/app"
)

// HTTP serves the REST API.
type HTTP struct {
	svc *app.Service
}

// RegisterHTTP adds the search routes to rt.
func RegisterHTTP(rt *httpserver.Router, svc *app.Service, mw *auth.Middleware) {
	h := &HTTP{svc: svc}
	rt.Handle("/openapi.yaml", openapi.Handler(api.OpenAPI)).Methods(http.MethodGet)
	rt.Handle("/v1/search", mw.Optional(httpserver.Handle(h.search))).Methods(http.MethodGet)
	rt.Handle("/v1/search/autocomplete", mw.Optional(httpserver.Handle(h.autocomplete))).Methods(http.MethodGet)
}

type summary struct {
	ID           string     `json:"id"`
	AuthorID     string     `json:"author_id"`
	Author       authorBody `json:"author"`
	Caption      string     `json:"caption"`
	Tags         []string   `json:"tags"`
	ThumbnailURL string     `json:"thumbnail_url"`
	CreatedAt    time.Time  `json:"created_at"`
}

type authorBody struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	AvatarURL   string `json:"avatar_url"`
}

func (h *HTTP) search(w http.ResponseWriter, r *http.Request) error {
	limit, err := page.ParseLimit(r)
	if err != nil {
		return err
	}
	offset, err := page.ParseOffset(r)
	if err != nil {
		return err
	}
	query := r.URL.Query()
	res, err := h.svc.Search(r.Context(), app.Request{
		Viewer: auth.ViewerID(r.Context()), Tags: query["tag"], Text: query.Get("q"), Limit: limit, Offset: offset,
	})
	if err != nil {
		return err
	}
	items := make([]summary, len(res.Docs))
	for i, d := range res.Docs {
		a := res.Authors[d.AuthorID]
		items[i] = summary{ID: d.PostID, AuthorID: d.AuthorID, Caption: d.Caption, Tags: d.Tags,
			Author:       authorBody{ID: d.AuthorID, Username: a.Username, DisplayName: a.DisplayName, AvatarURL: a.AvatarURL},
			ThumbnailURL: "/v1/posts/" + d.PostID + "/image?size=" + media.SizeThumb, CreatedAt: d.CreatedAt.UTC()}
	}
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"items": items, "total": res.Total})
	return nil
}

func (h *HTTP) autocomplete(w http.ResponseWriter, r *http.Request) error {
	limit := 10
	if raw := r.URL.Query().Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			return apperror.Invalidf("limit must be a positive integer").
				WithFields(apperror.FieldError{Field: "limit", Message: "must be a positive integer"})
		}
		limit = min(n, page.MaxLimit)
	}
	out, err := h.svc.Autocomplete(r.Context(), auth.ViewerID(r.Context()), r.URL.Query().Get("prefix"), limit)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}
