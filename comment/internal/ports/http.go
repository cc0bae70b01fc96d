// Package ports serves the comment service's REST API (api/openapi.yaml)
// and consumes the domain events it reacts to.
package ports

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"pixshare/comment/api"
	"pixshare/comment/internal/app"
	"pixshare/comment/internal/domain"
	"pixshare/contracts/stamps"
	"pixshare/platform/auth"
	"pixshare/platform/cache"
	"pixshare/platform/httpserver"
	"pixshare/platform/openapi"
	"pixshare/platform/page"
	"pixshare/platform/ratelimit"
)

// Limits are the rate limits of creating comments.
type Limits struct {
	PerAccount ratelimit.Limit
	PerClient  ratelimit.Limit
}

// HTTP serves the REST API.
type HTTP struct {
	svc     *app.Service
	limiter *ratelimit.Limiter
	limits  Limits
}

// RegisterHTTP adds the comment routes to rt.
func RegisterHTTP(rt *httpserver.Router, svc *app.Service, mw *auth.Middleware, limiter *ratelimit.Limiter, limits Limits) {
	h := &HTTP{svc: svc, limiter: limiter, limits: limits}
	rt.Handle("/openapi.yaml", openapi.Handler(api.OpenAPI)).Methods(http.MethodGet)
	rt.Handle("/v1/posts/{id}/comments", wantPost(mw.Optional(httpserver.Handle(h.list)))).Methods(http.MethodGet)
	rt.Handle("/v1/posts/{id}/comments", wantPost(mw.Required(httpserver.Handle(h.create)))).Methods(http.MethodPost)
	rt.Handle("/v1/posts/{id}/comments/{cid}", wantPost(mw.Optional(httpserver.Handle(h.get)))).Methods(http.MethodGet)
	rt.Handle("/v1/posts/{id}/comments/{cid}", wantPost(mw.Required(httpserver.Handle(h.edit)))).Methods(http.MethodPatch)
	rt.Handle("/v1/posts/{id}/comments/{cid}", wantPost(mw.Required(httpserver.Handle(h.delete)))).Methods(http.MethodDelete)
}

// wantPost has the request's one read of stamps include the post's (see
// cache.Want): every comment route checks that the post still exists.
func wantPost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cache.Want(r.Context(), stamps.Post(mux.Vars(r)["id"]))
		next.ServeHTTP(w, r)
	})
}

type authorBody struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	AvatarURL   string `json:"avatar_url"`
}

type commentBody struct {
	ID        string     `json:"id"`
	PostID    string     `json:"post_id"`
	AuthorID  string     `json:"author_id"`
	Author    authorBody `json:"author"`
	Body      string     `json:"body"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

func toBody(v app.CommentView) commentBody {
	c, a := v.Comment, v.Author
	return commentBody{ID: c.ID, PostID: c.PostID, AuthorID: c.AuthorID, Body: c.Body, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Author: authorBody{ID: a.ID, Username: a.Username, DisplayName: a.DisplayName, AvatarURL: a.AvatarURL}}
}

// write renders comments for the response.
func (h *HTTP) write(w http.ResponseWriter, r *http.Request, status int, c domain.Comment) error {
	views, err := h.svc.Present(r.Context(), []domain.Comment{c})
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, status, toBody(views[0]))
	return nil
}

func (h *HTTP) list(w http.ResponseWriter, r *http.Request) error {
	limit, after, err := page.Parse(r)
	if err != nil {
		return err
	}
	comments, err := h.svc.List(r.Context(), auth.ViewerID(r.Context()), mux.Vars(r)["id"], after, limit+1)
	if err != nil {
		return err
	}
	views, err := h.svc.Present(r.Context(), comments)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, http.StatusOK, page.Make(views, limit, func(c app.CommentView) string { return c.ID }, toBody))
	return nil
}

func (h *HTTP) get(w http.ResponseWriter, r *http.Request) error {
	vars := mux.Vars(r)
	c, err := h.svc.Get(r.Context(), auth.ViewerID(r.Context()), vars["id"], vars["cid"])
	if err != nil {
		return err
	}
	return h.write(w, r, http.StatusOK, c)
}

type bodyRequest struct {
	Body *string `json:"body"`
}

func (h *HTTP) readBody(r *http.Request) (string, error) {
	var req bodyRequest
	if err := httpserver.DecodeJSON(r, &req); err != nil {
		return "", err
	}
	if req.Body == nil {
		// The same refusal as an empty body.
		_, err := domain.CheckBody("")
		return "", err
	}
	return *req.Body, nil
}

func (h *HTTP) create(w http.ResponseWriter, r *http.Request) error {
	p, err := auth.Require(r.Context())
	if err != nil {
		return err
	}
	err = h.limiter.AllowAll(
		ratelimit.Key{Rule: "comment", Key: p.UserID, Limit: h.limits.PerAccount},
		ratelimit.Key{Rule: "comment-client", Key: ratelimit.ClientIP(r), Limit: h.limits.PerClient})
	if err != nil {
		return err
	}
	body, err := h.readBody(r)
	if err != nil {
		return err
	}
	c, err := h.svc.Create(r.Context(), p.UserID, mux.Vars(r)["id"], body)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/posts/"+c.PostID+"/comments/"+c.ID)
	return h.write(w, r, http.StatusCreated, c)
}

func (h *HTTP) edit(w http.ResponseWriter, r *http.Request) error {
	p, err := auth.Require(r.Context())
	if err != nil {
		return err
	}
	body, err := h.readBody(r)
	if err != nil {
		return err
	}
	vars := mux.Vars(r)
	c, err := h.svc.Edit(r.Context(), p.UserID, vars["id"], vars["cid"], body)
	if err != nil {
		return err
	}
	return h.write(w, r, http.StatusOK, c)
}

func (h *HTTP) delete(w http.ResponseWriter, r *http.Request) error {
	p, err := auth.Require(r.Context())
	if err == nil {
		vars := mux.Vars(r)
		err = h.svc.Delete(r.Context(), p.UserID, vars["id"], vars["cid"])
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
