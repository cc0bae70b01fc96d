// Package ports adapts the user service's use cases to its transports:
// REST for clients (documented in api/openapi.yaml) and gRPC for other
// services.
package ports

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"pixshare/platform/apperror"
	"pixshare/platform/auth"
	"pixshare/platform/httpserver"
	"pixshare/platform/openapi"
	"pixshare/platform/page"
	"pixshare/platform/ratelimit"
	"pixshare/user/api"
	"pixshare/user/internal/app"
	"pixshare/user/internal/domain"
)

// credentialsMaxBytes bounds register and login bodies: a username, an
// email and a 128-character password, even with every character escaped,
// fit many times over.
const credentialsMaxBytes = 16 << 10

// Limits are the rate limits of the routes that invite abuse.
type Limits struct {
	Register    ratelimit.Limit
	LoginClient ratelimit.Limit
	// LoginAccount limits one account's logins from one address;
	// LoginAccountSoft all of an account's logins, by slowing them by
	// LoginSlowDelay (never refusing: a stranger must not lock a user out).
	LoginAccount     ratelimit.Limit
	LoginAccountSoft ratelimit.Limit
	LoginSlowDelay   time.Duration
	Avatar           ratelimit.Limit
	// Relation limits follow/unfollow/block/unblock per account.
	Relation ratelimit.Limit
}

// HTTP serves the REST API.
type HTTP struct {
	avatars AvatarLimits
	svc     *app.Service
	limiter *ratelimit.Limiter
	limits  Limits
}

// RegisterHTTP adds the user routes to rt.
func RegisterHTTP(rt *httpserver.Router, svc *app.Service, mw *auth.Middleware, limiter *ratelimit.Limiter, limits Limits, avatars AvatarLimits) {
	h := &HTTP{svc: svc, limiter: limiter, limits: limits, avatars: avatars}
	rt.Handle("/openapi.yaml", openapi.Handler(api.OpenAPI)).Methods(http.MethodGet)
	// Anyone may send these two, and every byte of a body is held while it
	// is decoded: a login flood with megabyte usernames would otherwise
	// cost the service a megabyte or more per request in flight.
	rt.HandleWithLimit("/v1/users/register", credentialsMaxBytes, httpserver.Handle(h.register)).Methods(http.MethodPost)
	rt.HandleWithLimit("/v1/users/login", credentialsMaxBytes, httpserver.Handle(h.login)).Methods(http.MethodPost)
	rt.Handle("/v1/users/logout", mw.Required(httpserver.Handle(h.logout))).Methods(http.MethodPost)
	rt.Handle("/v1/users/me", mw.Required(httpserver.Handle(h.me))).Methods(http.MethodGet)
	rt.Handle("/v1/users/me", mw.Required(httpserver.Handle(h.updateMe))).Methods(http.MethodPatch)
	rt.Handle("/v1/users/me", mw.Required(httpserver.Handle(h.deleteMe))).Methods(http.MethodDelete)
	rt.Handle("/v1/users", mw.Optional(httpserver.Handle(h.search))).Methods(http.MethodGet)
	rt.Handle("/v1/users/lookup", mw.Optional(httpserver.Handle(h.lookup))).Methods(http.MethodGet)
	rt.Handle("/v1/users/me/blocks", mw.Required(httpserver.Handle(h.blocks))).Methods(http.MethodGet)
	rt.HandleWithLimit("/v1/users/me/avatar", h.avatars.MaxBytes+64<<10, mw.Required(httpserver.Handle(h.putAvatar))).Methods(http.MethodPut)
	rt.Handle("/v1/users/me/avatar", mw.Required(httpserver.Handle(h.deleteAvatar))).Methods(http.MethodDelete)
	rt.Handle("/v1/users/{id}/avatar", mw.Optional(httpserver.Handle(h.avatar))).Methods(http.MethodGet, http.MethodHead)
	rt.Handle("/v1/users/{id}", mw.Optional(httpserver.Handle(h.profile))).Methods(http.MethodGet)
	rt.Handle("/v1/users/{id}/follow", mw.Required(h.relation(svc.Follow))).Methods(http.MethodPut)
	rt.Handle("/v1/users/{id}/follow", mw.Required(h.relation(svc.Unfollow))).Methods(http.MethodDelete)
	rt.Handle("/v1/users/{id}/block", mw.Required(h.relation(svc.Block))).Methods(http.MethodPut)
	rt.Handle("/v1/users/{id}/block", mw.Required(h.relation(svc.Unblock))).Methods(http.MethodDelete)
	rt.Handle("/v1/users/{id}/followers", mw.Optional(h.list(svc.Followers))).Methods(http.MethodGet)
	rt.Handle("/v1/users/{id}/following", mw.Optional(h.list(svc.Following))).Methods(http.MethodGet)
}

// meBody is the caller's own account.
type meBody struct {
	ID             string `json:"id"`
	Username       string `json:"username"`
	Email          string `json:"email"`
	DisplayName    string `json:"display_name"`
	Bio            string `json:"bio"`
	FollowerCount  int64  `json:"follower_count"`
	FollowingCount int64  `json:"following_count"`
	AvatarURL      string `json:"avatar_url"`
	// AvatarProcessing: a new avatar is being made (avatar_url still
	// names the previous one, if any).
	AvatarProcessing bool      `json:"avatar_processing"`
	CreatedAt        time.Time `json:"created_at"`
}

func toMe(u domain.User) meBody {
	return meBody{ID: u.ID, Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, Bio: u.Bio,
		AvatarURL: u.AvatarURL(), AvatarProcessing: u.AvatarPending != 0,
		FollowerCount: u.FollowerCount, FollowingCount: u.FollowingCount, CreatedAt: u.CreatedAt.UTC()}
}

// profileBody is what anyone may see, and how the viewer stands to the
// user (signed-in viewers, about others).
type profileBody struct {
	ID             string            `json:"id"`
	Username       string            `json:"username"`
	DisplayName    string            `json:"display_name"`
	Bio            string            `json:"bio"`
	AvatarURL      string            `json:"avatar_url"`
	FollowerCount  int64             `json:"follower_count"`
	FollowingCount int64             `json:"following_count"`
	CreatedAt      time.Time         `json:"created_at"`
	Relationship   *relationshipBody `json:"relationship,omitempty"`
}

type relationshipBody struct {
	Following  bool `json:"following"`
	FollowedBy bool `json:"followed_by"`
	Blocking   bool `json:"blocking"`
}

func toProfile(v app.ProfileView) profileBody {
	u := v.User
	b := profileBody{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Bio: u.Bio, AvatarURL: u.AvatarURL(),
		FollowerCount: u.FollowerCount, FollowingCount: u.FollowingCount, CreatedAt: u.CreatedAt.UTC()}
	if rel := v.Relationship; rel != nil {
		b.Relationship = &relationshipBody{Following: rel.Following, FollowedBy: rel.FollowedBy, Blocking: rel.Blocking}
	}
	return b
}

func (h *HTTP) register(w http.ResponseWriter, r *http.Request) error {
	if err := h.limiter.Allow("register", ratelimit.ClientIP(r), h.limits.Register); err != nil {
		return err
	}
	var body struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := httpserver.DecodeJSON(r, &body); err != nil {
		return err
	}
	u, err := h.svc.Register(r.Context(), body.Username, body.Email, body.Password)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/users/"+u.ID)
	httpserver.WriteJSON(w, http.StatusCreated, toMe(u))
	return nil
}

func (h *HTTP) login(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := httpserver.DecodeJSON(r, &body); err != nil {
		return err
	}
	login := body.Username
	if login == "" {
		login = body.Email
	}
	// Per address against spraying many accounts; per account and address
	// against guessing one password from one place. Login names can be as
	// long as the body: the limiter keeps long keys hashed.
	addr := ratelimit.ClientIP(r)
	account := strings.ToLower(strings.TrimSpace(login))
	err := h.limiter.AllowAll(
		ratelimit.Key{Rule: "login", Key: addr, Limit: h.limits.LoginClient},
		ratelimit.Key{Rule: "login-account", Key: account + "\x00" + addr, Limit: h.limits.LoginAccount})
	if err != nil {
		return err
	}
	// Guessing one password from many addresses: past the account's soft
	// limit each attempt waits, which slows a botnet down and costs the
	// real user a second, where a refusal would lock them out.
	if h.limiter.Allow("login-account-soft", account, h.limits.LoginAccountSoft) != nil && h.limits.LoginSlowDelay > 0 {
		t := time.NewTimer(h.limits.LoginSlowDelay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return r.Context().Err()
		}
	}
	res, err := h.svc.Login(r.Context(), login, body.Password)
	if err != nil {
		if apperror.Is(err, apperror.Unauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pixshare"`)
		}
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{
		"access_token": res.Token,
		"token_type":   "Bearer",
		"expires_in":   int(res.ExpiresIn / time.Second),
		"user":         toMe(res.User),
	})
	return nil
}

func caller(r *http.Request) (auth.Principal, error) { return auth.Require(r.Context()) }

func (h *HTTP) logout(w http.ResponseWriter, r *http.Request) error {
	p, err := caller(r)
	if err == nil {
		err = h.svc.Logout(r.Context(), p.UserID)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *HTTP) me(w http.ResponseWriter, r *http.Request) error {
	p, err := caller(r)
	if err != nil {
		return err
	}
	u, err := h.svc.Me(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, http.StatusOK, toMe(u))
	return nil
}

func (h *HTTP) updateMe(w http.ResponseWriter, r *http.Request) error {
	p, err := caller(r)
	if err != nil {
		return err
	}
	var body struct {
		DisplayName     *string `json:"display_name"`
		Bio             *string `json:"bio"`
		Email           *string `json:"email"`
		Password        *string `json:"password"`
		CurrentPassword *string `json:"current_password"`
	}
	if err := httpserver.DecodeJSON(r, &body); err != nil {
		return err
	}
	u, err := h.svc.UpdateMe(r.Context(), p.UserID, domain.ProfilePatch{
		DisplayName: body.DisplayName, Bio: body.Bio, Email: body.Email, Password: body.Password,
		CurrentPassword: body.CurrentPassword,
	})
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, http.StatusOK, toMe(u))
	return nil
}

func (h *HTTP) deleteMe(w http.ResponseWriter, r *http.Request) error {
	p, err := caller(r)
	if err != nil {
		return err
	}
	var body struct {
		CurrentPassword string `json:"current_password"`
	}
	if err := httpserver.DecodeJSON(r, &body); err != nil {
		return err
	}
	if err := h.svc.DeleteMe(r.Context(), p.UserID, body.CurrentPassword); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *HTTP) profile(w http.ResponseWriter, r *http.Request) error {
	v, err := h.svc.View(r.Context(), auth.ViewerID(r.Context()), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, http.StatusOK, toProfile(v))
	return nil
}

// lookup finds a profile by username, ignoring case.
func (h *HTTP) lookup(w http.ResponseWriter, r *http.Request) error {
	name := r.URL.Query().Get("username")
	if name == "" {
		return apperror.Invalidf("username is required").WithFields(apperror.FieldError{Field: "username", Message: "required"})
	}
	v, err := h.svc.Lookup(r.Context(), auth.ViewerID(r.Context()), name)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, http.StatusOK, toProfile(v))
	return nil
}

// search pages the users whose username or display name starts with q.
func (h *HTTP) search(w http.ResponseWriter, r *http.Request) error {
	limit, after, err := page.Parse(r)
	if err != nil {
		return err
	}
	hits, err := h.svc.SearchUsers(r.Context(), auth.ViewerID(r.Context()), r.URL.Query().Get("q"), after, limit+1)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, http.StatusOK, page.Make(hits, limit, func(u domain.UserHit) string { return u.Cursor },
		func(u domain.UserHit) profileBody { return toProfile(app.ProfileView{User: u.User}) }))
	return nil
}

// blocks pages the accounts the caller blocks.
func (h *HTTP) blocks(w http.ResponseWriter, r *http.Request) error {
	p, err := caller(r)
	if err != nil {
		return err
	}
	limit, before, err := page.Parse(r)
	if err != nil {
		return err
	}
	rels, err := h.svc.Blocks(r.Context(), p.UserID, before, limit+1)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, http.StatusOK, page.Make(rels, limit, func(rel domain.Relation) string { return rel.Cursor }, toRelation))
	return nil
}

// relation serves PUT/DELETE on follow and block.
func (h *HTTP) relation(op func(ctx context.Context, actor, target string) error) http.Handler {
	return httpserver.Handle(func(w http.ResponseWriter, r *http.Request) error {
		p, err := caller(r)
		if err == nil {
			// Churn (follow, unfollow, follow…) costs writes, events and
			// notifications each time; a person needs far fewer.
			err = h.limiter.Allow("relation", p.UserID, h.limits.Relation)
		}
		if err == nil {
			err = op(r.Context(), p.UserID, mux.Vars(r)["id"])
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

type relationBody struct {
	ID          string    `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	AvatarURL   string    `json:"avatar_url"`
	Since       time.Time `json:"since"`
}

func toRelation(rel domain.Relation) relationBody {
	return relationBody{ID: rel.UserID, Username: rel.Username, DisplayName: rel.DisplayName, AvatarURL: rel.AvatarURL(), Since: rel.Since.UTC()}
}

// list serves the follower and following lists.
func (h *HTTP) list(op func(ctx context.Context, viewer, id, cursor string, limit int) ([]domain.Relation, error)) http.Handler {
	return httpserver.Handle(func(w http.ResponseWriter, r *http.Request) error {
		limit, after, err := page.Parse(r)
		if err != nil {
			return err
		}
		rels, err := op(r.Context(), auth.ViewerID(r.Context()), mux.Vars(r)["id"], after, limit+1)
		if err != nil {
			return err
		}
		httpserver.WriteJSON(w, http.StatusOK, page.Make(rels, limit, func(rel domain.Relation) string { return rel.Cursor }, toRelation))
		return nil
	})
}
