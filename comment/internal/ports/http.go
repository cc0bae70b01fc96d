// Package ports serves the comment service's REST API (api/openapi.yaml)
// and consumes the domain events it reacts to.
package ports

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"pixshare/comment/api"
	"pixshare/comment/internal/app"
	"pixshare/comment/internal/domain"
	"pixshare/contracts/events"
	"pixshare/platform/auth"
	"pixshare/platform/httpserver"
	"pixshare/platform/openapi"
	"pixshare/platform/page"
	"pixshare/platform/pubsub"
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
	logger  *zap.Logger
}

// RegisterHTTP adds the comment routes to rt.
func RegisterHTTP(rt *httpserver.Router, svc *app.Service, mw *auth.Middleware, limiter *ratelimit.Limiter, limits Limits, logger *zap.Logger) {
	h := &HTTP{svc: svc, limiter: limiter, limits: limits, logger: logger}
	m := rt.Mux
	m.Handle("/openapi.yaml", openapi.Handler(api.OpenAPI)).Methods(http.MethodGet)
	m.Handle("/v1/posts/{id}/comments", mw.Optional(http.HandlerFunc(h.list))).Methods(http.MethodGet)
	m.Handle("/v1/posts/{id}/comments", mw.Required(http.HandlerFunc(h.create))).Methods(http.MethodPost)
	m.Handle("/v1/posts/{id}/comments/{cid}", mw.Required(http.HandlerFunc(h.edit))).Methods(http.MethodPatch)
	m.Handle("/v1/posts/{id}/comments/{cid}", mw.Required(http.HandlerFunc(h.delete))).Methods(http.MethodDelete)
}

type commentBody struct {
	ID        string    `json:"id"`
	PostID    string    `json:"post_id"`
	AuthorID  string    `json:"author_id"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toBody(c domain.Comment) commentBody {
	return commentBody{ID: c.ID, PostID: c.PostID, AuthorID: c.AuthorID, Body: c.Body, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpserver.WriteError(w, r, h.logger, err)
}

func viewer(r *http.Request) string {
	if p, ok := auth.FromContext(r.Context()); ok {
		return p.UserID
	}
	return ""
}

func (h *HTTP) list(w http.ResponseWriter, r *http.Request) {
	limit, after, err := page.Parse(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	comments, err := h.svc.List(r.Context(), viewer(r), mux.Vars(r)["id"], after, limit+1)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, page.Make(comments, limit, func(c domain.Comment) string { return c.ID }, toBody))
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

func (h *HTTP) create(w http.ResponseWriter, r *http.Request) {
	p, err := auth.Require(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	err = h.limiter.Allow("comment", p.UserID, h.limits.PerAccount)
	if err == nil {
		err = h.limiter.Allow("comment-client", ratelimit.ClientIP(r), h.limits.PerClient)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := h.readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := h.svc.Create(r.Context(), p.UserID, mux.Vars(r)["id"], body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/posts/"+c.PostID+"/comments/"+c.ID)
	httpserver.WriteJSON(w, http.StatusCreated, toBody(c))
}

func (h *HTTP) edit(w http.ResponseWriter, r *http.Request) {
	p, err := auth.Require(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := h.readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	vars := mux.Vars(r)
	c, err := h.svc.Edit(r.Context(), p.UserID, vars["id"], vars["cid"], body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, toBody(c))
}

func (h *HTTP) delete(w http.ResponseWriter, r *http.Request) {
	p, err := auth.Require(r.Context())
	if err == nil {
		vars := mux.Vars(r)
		err = h.svc.Delete(r.Context(), p.UserID, vars["id"], vars["cid"])
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Subscribe routes the domain events the comment service reacts to.
func Subscribe(sub *pubsub.Subscriber, svc *app.Service) error {
	return sub.Subscribe(events.TopicDomainEvents, map[string]pubsub.Handler{
		events.TypePostDeleted: func(ctx context.Context, ev pubsub.Event) error {
			e, err := events.ParsePostDeleted(ev.Data)
			if err != nil {
				return err
			}
			return svc.OnPostDeleted(ctx, e.PostID)
		},
		events.TypeUserDeleted: func(ctx context.Context, ev pubsub.Event) error {
			e, err := events.ParseUserDeleted(ev.Data)
			if err != nil {
				return err
			}
			return svc.OnUserDeleted(ctx, e.UserID)
		},
	})
}
