package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"go.uber.org/fx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"gorm.io/gorm"

	platformapp "pixshare/platform/app"
	"pixshare/platform/apperror"
	"pixshare/platform/daprtest"
	"pixshare/platform/grpcserver"
	"pixshare/platform/httpserver"
	"pixshare/platform/openapi/openapitest"
	"pixshare/platform/sidecar"
	userv1 "pixshare/proto/user/v1"
	"pixshare/user/api"
	"pixshare/user/internal/service"
)

const signingKey = "test-signing-key-0123456789-abcdefghijklmnop"

type harness struct {
	t      *testing.T
	base   string
	env    *daprtest.Env
	db     *gorm.DB
	router *httpserver.Router
	doc    *openapitest.Doc
}

// start runs the real user service beside a real daprd with in-memory
// components and a local secret store.
func start(t *testing.T) *harness {
	t.Helper()
	env := daprtest.NewEnv(t, daprtest.InMemoryPubSub, daprtest.SharedCache, daprtest.LocalSecrets)
	env.WriteSecrets(t, `{"jwt-signing-key": "`+signingKey+`"}`)
	appPort, httpPort := daprtest.FreePort(t), daprtest.FreePort(t)
	side := env.Start(t, service.AppID, appPort)
	for k, v := range side.AppEnv() {
		t.Setenv(k, v)
	}
	t.Setenv("HTTP_ADDR", "127.0.0.1:"+strconv.Itoa(httpPort))
	t.Setenv("DATABASE_URL", "sqlite://"+env.Dir+"/user.db")
	t.Setenv("LOG_LEVEL", "warn")
	h := &harness{t: t, base: "http://127.0.0.1:" + strconv.Itoa(httpPort), env: env, doc: openapitest.Load(t, api.OpenAPI)}
	app := fx.New(platformapp.Options(service.AppID, service.Module), fx.Populate(&h.db, &h.router), fx.NopLogger)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatalf("start user service: %v", err)
	}
	t.Cleanup(func() { _ = app.Stop(context.Background()) })
	side.WaitApp(t)
	return h
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON: %s", r.body)
	}
	return m
}

// do sends a request and checks the response against the OpenAPI document.
func (h *harness) do(method, path, token string, body any) response {
	h.t.Helper()
	header := map[string]string{}
	if token != "" {
		header["Authorization"] = "Bearer " + token
	}
	return h.doWith(method, path, header, body)
}

// doWith sends body with extra headers.
func (h *harness) doWith(method, path string, header map[string]string, body any) response {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	h.doc.CheckResponse(h.t, req, res, b)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (h *harness) expect(r response, status int) response {
	h.t.Helper()
	if r.status != status {
		h.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if status >= 400 && r.header.Get("Content-Type") != httpserver.ProblemContentType {
		h.t.Fatalf("error without a problem document: %s", r.header.Get("Content-Type"))
	}
	return r
}

func (h *harness) register(name string) (id, token string) {
	h.t.Helper()
	r := h.expect(h.do("POST", "/v1/users/register", "", map[string]string{
		"username": name, "email": name + "@example.com", "password": "correct horse battery",
	}), 201)
	id = r.json(h.t)["id"].(string)
	l := h.expect(h.do("POST", "/v1/users/login", "", map[string]string{"username": name, "password": "correct horse battery"}), 200)
	return id, l.json(h.t)["access_token"].(string)
}

func (h *harness) userCount() int64 {
	var n int64
	if err := h.db.Table("users").Count(&n).Error; err != nil {
		h.t.Fatal(err)
	}
	return n
}

func TestRoutesMatchDocument(t *testing.T) {
	h := start(t)
	h.doc.CheckRoutes(t, h.router.Mux)
	res, err := http.Get(h.base + "/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.Equal(body, api.OpenAPI) {
		t.Fatalf("/openapi.yaml does not serve the document: %d", res.StatusCode)
	}
}

func TestAccountJourney(t *testing.T) {
	h := start(t)

	// Refusals store nothing.
	before := h.userCount()
	r := h.expect(h.do("POST", "/v1/users/register", "", map[string]string{"username": "x", "email": "nope", "password": "short"}), 422)
	if fields := r.json(t)["errors"].([]any); len(fields) != 3 {
		t.Fatalf("want one error per bad field, got %v", fields)
	}
	h.expect(h.do("POST", "/v1/users/register", "", map[string]any{"username": "alice", "email": "a@example.com", "password": "0123456789", "status": "admin"}), 400)
	h.expect(h.do("POST", "/v1/users/register", "", map[string]any{"username": 5}), 400)
	if h.userCount() != before {
		t.Fatal("a refused registration stored a user")
	}

	aliceID, alice := h.register("alice")
	bobID, bob := h.register("bob")
	h.expect(h.do("POST", "/v1/users/register", "", map[string]string{"username": "Alice", "email": "new@example.com", "password": "0123456789ab"}), 409)
	// A taken email is not revealed: the answer looks like a success, and
	// no second account exists (the stranger cannot log in with it).
	before = h.userCount()
	decoy := h.expect(h.do("POST", "/v1/users/register", "", map[string]string{"username": "mallory", "email": "ALICE@example.com", "password": "0123456789ab"}), 201).json(t)
	if decoy["username"] != "mallory" || h.userCount() != before {
		t.Fatalf("a registration with a taken email stored an account or told: %v", decoy)
	}
	h.expect(h.do("POST", "/v1/users/login", "", map[string]string{"username": "mallory", "password": "0123456789ab"}), 401)

	// Login failures look the same whether or not the account exists.
	wrong := h.expect(h.do("POST", "/v1/users/login", "", map[string]string{"username": "alice", "password": "wrong password!"}), 401)
	unknown := h.expect(h.do("POST", "/v1/users/login", "", map[string]string{"username": "nobody", "password": "wrong password!"}), 401)
	if wrong.json(t)["detail"] != unknown.json(t)["detail"] {
		t.Fatal("login failure messages reveal whether the account exists")
	}
	// Credentials are small; 64 KiB of username is refused before it
	// is decoded (413), for registration as for login.
	huge := strings.Repeat("a", 64<<10)
	h.expect(h.do("POST", "/v1/users/login", "", map[string]string{"username": huge, "password": "wrong password!"}), 413)
	before = h.userCount()
	h.expect(h.do("POST", "/v1/users/register", "", map[string]string{"username": "bigbody", "email": "big@example.com", "password": "0123456789ab", "display_name": huge}), 413)
	if h.userCount() != before {
		t.Fatal("an oversized registration stored an account")
	}
	h.expect(h.do("POST", "/v1/users/login", "", map[string]string{"email": "bob@example.com", "password": "correct horse battery"}), 200)

	me := h.expect(h.do("GET", "/v1/users/me", alice, nil), 200).json(t)
	if me["id"] != aliceID || me["email"] != "alice@example.com" {
		t.Fatalf("me = %v", me)
	}
	h.expect(h.do("GET", "/v1/users/me", "", nil), 401)
	h.expect(h.do("GET", "/v1/users/me", "not-a-token", nil), 401)
	edited := h.expect(h.do("PATCH", "/v1/users/me", alice, map[string]string{"display_name": "Alice A.", "bio": "hi"}), 200).json(t)
	if edited["display_name"] != "Alice A." || edited["bio"] != "hi" {
		t.Fatalf("edit = %v", edited)
	}
	h.expect(h.do("PATCH", "/v1/users/me", alice, map[string]any{"follower_count": 1000}), 400)

	// Follow, counters, idempotency, lists.
	h.expect(h.do("PUT", "/v1/users/"+bobID+"/follow", alice, nil), 204)
	h.expect(h.do("PUT", "/v1/users/"+bobID+"/follow", alice, nil), 204)
	h.expect(h.do("PUT", "/v1/users/"+aliceID+"/follow", alice, nil), 422)
	h.expect(h.do("PUT", "/v1/users/"+uuid.NewString()+"/follow", alice, nil), 404)
	profile := h.expect(h.do("GET", "/v1/users/"+bobID, "", nil), 200).json(t)
	if profile["follower_count"] != float64(1) || profile["email"] != nil {
		t.Fatalf("bob's profile = %v", profile)
	}
	followers := h.expect(h.do("GET", "/v1/users/"+bobID+"/followers?limit=10", "", nil), 200).json(t)
	if items := followers["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != aliceID {
		t.Fatalf("bob's followers = %v", followers)
	}
	h.expect(h.do("GET", "/v1/users/"+bobID+"/followers?cursor=garbage", "", nil), 400)
	h.expect(h.do("GET", "/v1/users/"+bobID+"/followers?limit=0", "", nil), 400)

	// Blocks: follows removed both ways, profile hidden both ways, no follow.
	h.expect(h.do("PUT", "/v1/users/"+aliceID+"/block", bob, nil), 204)
	profile = h.expect(h.do("GET", "/v1/users/"+bobID, "", nil), 200).json(t)
	if profile["follower_count"] != float64(0) {
		t.Fatalf("the block did not remove the follow (cache not invalidated?): %v", profile)
	}
	// The blocked user does not see the blocker; the blocker still sees
	// whom they block (to unblock), with the relationship saying so.
	h.expect(h.do("GET", "/v1/users/"+bobID, alice, nil), 404)
	seen := h.expect(h.do("GET", "/v1/users/"+aliceID, bob, nil), 200).json(t)
	if rel, _ := seen["relationship"].(map[string]any); rel["blocking"] != true || rel["following"] != false {
		t.Fatalf("the blocker's view of the blocked profile: %v", seen["relationship"])
	}
	h.expect(h.do("PUT", "/v1/users/"+bobID+"/follow", alice, nil), 403)
	h.expect(h.do("DELETE", "/v1/users/"+aliceID+"/block", bob, nil), 204)
	h.expect(h.do("GET", "/v1/users/"+bobID, alice, nil), 200)

	// A new password revokes older tokens.
	// A stolen token alone cannot take the account over: the password
	// and the email change only with the current password.
	h.expect(h.do("PATCH", "/v1/users/me", bob, map[string]string{"password": "a brand new password"}), 403)
	h.expect(h.do("PATCH", "/v1/users/me", bob, map[string]string{"password": "a brand new password", "current_password": "wrong guess 123"}), 403)
	h.expect(h.do("PATCH", "/v1/users/me", bob, map[string]string{"email": "thief@example.com"}), 403)
	h.expect(h.do("DELETE", "/v1/users/me", bob, nil), 400)
	h.expect(h.do("DELETE", "/v1/users/me", bob, map[string]string{"current_password": "wrong guess 123"}), 403)
	h.expect(h.do("GET", "/v1/users/me", bob, nil), 200)
	h.expect(h.do("PATCH", "/v1/users/me", bob, map[string]string{"password": "a brand new password", "current_password": "correct horse battery"}), 200)
	h.expect(h.do("GET", "/v1/users/me", bob, nil), 401)
	h.expect(h.do("POST", "/v1/users/login", "", map[string]string{"username": "bob", "password": "a brand new password"}), 200)

	// Logout revokes the caller's tokens.
	h.expect(h.do("POST", "/v1/users/logout", alice, nil), 204)
	h.expect(h.do("GET", "/v1/users/me", alice, nil), 401)
	l := h.expect(h.do("POST", "/v1/users/login", "", map[string]string{"username": "alice", "password": "correct horse battery"}), 200)
	alice = l.json(t)["access_token"].(string)

	// Deletion: the token stops working, the profile is gone, the name is free.
	h.expect(h.do("DELETE", "/v1/users/me", alice, map[string]string{"current_password": "correct horse battery"}), 204)
	h.expect(h.do("GET", "/v1/users/me", alice, nil), 401)
	h.expect(h.do("GET", "/v1/users/"+aliceID, "", nil), 404)
	h.expect(h.do("POST", "/v1/users/login", "", map[string]string{"username": "alice", "password": "correct horse battery"}), 401)
	h.register("alice")
}

// signed makes an HS256 token with the given claims and key.
func signed(t *testing.T, key string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAuthenticateThroughSidecars calls user.v1.AuthService/Authenticate
// from a second app id, through both sidecars (Dapr gRPC proxying).
func TestAuthenticateThroughSidecars(t *testing.T) {
	h := start(t)
	activeID, active := h.register("carol")
	deletedID, deleted := h.register("dave")
	h.expect(h.do("DELETE", "/v1/users/me", deleted, map[string]string{"current_password": "correct horse battery"}), 204)
	changedID, changed := h.register("erin")
	h.expect(h.do("PATCH", "/v1/users/me", changed, map[string]string{"password": "another password 1", "current_password": "correct horse battery"}), 200)

	// The calling app: a bare gRPC server beside its own sidecar, with the
	// app id of a service allowed to authenticate ("post").
	callerDaprToken, callerAppToken := h.env.Tokens("post")
	callerSrv, err := grpcserver.New(grpcserver.Config{Host: "127.0.0.1", APIToken: callerAppToken, MaxMessageBytes: 4 << 20}, nopLogger())
	if err != nil {
		t.Fatal(err)
	}
	callerSide := h.env.Start(t, "post", callerSrv.Port())
	callerSrv.Start()
	t.Cleanup(func() { callerSrv.Stop(context.Background()) })
	callerSide.WaitApp(t)
	conn, err := sidecar.Dial(sidecar.Config{Host: "127.0.0.1", GRPCPort: callerSide.GRPCPort, HTTPPort: callerSide.HTTPPort,
		APIToken: callerDaprToken, MaxMessageBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := userv1.NewAuthServiceClient(sidecar.NewAppConn(conn, "user"))

	now := time.Now()
	claims := func(sub string, exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{"iss": "pixshare", "aud": "pixshare-api", "sub": sub, "iat": now.Unix(), "exp": exp.Unix(), "ver": 0}
	}
	noneToken := func() string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(activeID, now.Add(time.Hour))).SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}()
	wrongIss := claims(activeID, now.Add(time.Hour))
	wrongIss["iss"] = "someone-else"
	noExp := claims(activeID, now.Add(time.Hour))
	delete(noExp, "exp")

	tests := []struct {
		name   string
		token  string
		status userv1.UserStatus
		userID string
	}{
		{"active user", active, userv1.UserStatus_USER_STATUS_ACTIVE, activeID},
		{"deleted user", deleted, userv1.UserStatus_USER_STATUS_DELETED, deletedID},
		{"unknown user", signed(t, signingKey, claims(uuid.NewString(), now.Add(time.Hour))), userv1.UserStatus_USER_STATUS_UNKNOWN, ""},
		{"expired", signed(t, signingKey, claims(activeID, now.Add(-time.Hour))), 0, ""},
		{"forged with a guessed key", signed(t, "secret", claims(activeID, now.Add(time.Hour))), 0, ""},
		{"alg none", noneToken, 0, ""},
		{"wrong issuer", signed(t, signingKey, wrongIss), 0, ""},
		{"no exp", signed(t, signingKey, noExp), 0, ""},
		{"revoked by password change", changed, 0, ""},
		{"garbage", "a.b.c", 0, ""},
	}
	_ = changedID
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := client.Authenticate(ctx, &userv1.AuthenticateRequest{Token: tt.token})
			if tt.status == 0 {
				// Refused tokens are an answer, not an error (see user.proto).
				if err != nil || res.GetStatus() != userv1.UserStatus_USER_STATUS_INVALID_TOKEN || res.GetUserId() != "" {
					t.Fatalf("want INVALID_TOKEN, got %v, %v", res, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.GetStatus() != tt.status || (tt.userID != "" && res.GetUserId() != tt.userID) {
				t.Fatalf("got %v %s, want %v %s", res.GetStatus(), res.GetUserId(), tt.status, tt.userID)
			}
		})
	}

	graph := userv1.NewGraphServiceClient(sidecar.NewAppConn(conn, "user"))
	h.expect(h.do("PUT", "/v1/users/"+changedID+"/block", active, nil), 204)
	ctx := context.Background()
	blocked, err := graph.IsBlocked(ctx, &userv1.IsBlockedRequest{UserId: changedID, OtherUserId: activeID})
	if err != nil || !blocked.GetBlocked() {
		t.Fatalf("IsBlocked either way: %v %v", blocked, err)
	}
	list, err := graph.ListBlocked(ctx, &userv1.ListBlockedRequest{UserId: changedID})
	if err != nil || len(list.GetUserIds()) != 1 || list.GetUserIds()[0] != activeID {
		t.Fatalf("ListBlocked: %v %v", list, err)
	}
	if _, err := graph.ListBlocked(ctx, &userv1.ListBlockedRequest{}); !apperror.Is(err, apperror.Invalid) {
		t.Fatalf("empty user id: want Invalid, got %v", err)
	}
	if !strings.HasPrefix(active, "ey") {
		t.Fatal("token is not a JWT")
	}
}

func TestRateLimits(t *testing.T) {
	t.Setenv("RATE_LIMIT_LOGIN_ACCOUNT", "3/1m")
	t.Setenv("RATE_LIMIT_LOGIN_ACCOUNT_SOFT", "4/1m")
	t.Setenv("LOGIN_SLOW_DELAY", "10ms")
	t.Setenv("RATE_LIMIT_REGISTER", "4/1m")
	t.Setenv("RATE_LIMIT_RELATION", "3/1m")
	t.Setenv("GATEWAY_HOP_TOKEN", "test-hop")
	h := start(t)
	_, rita := h.register("rita") // logs in once
	bad := map[string]string{"username": "rita", "password": "wrong password!"}
	for range 2 {
		h.expect(h.do("POST", "/v1/users/login", "", bad), 401)
	}
	r := h.expect(h.do("POST", "/v1/users/login", "", bad), 429)
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("429 without a usable Retry-After: %q", ra)
	}
	// The limit is per account and address: a spoofed X-Forwarded-For
	// changes nothing, but rita herself, from elsewhere (as the gateway
	// vouches), logs in. Past the soft per-account limit (4: the first
	// login, two failures, this one) she is slowed, never refused.
	good := map[string]string{"username": "rita", "password": "correct horse battery"}
	h.expect(h.doWith("POST", "/v1/users/login", map[string]string{"X-Forwarded-For": "198.51.100.9"}, good), 429)
	for _, addr := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		h.expect(h.doWith("POST", "/v1/users/login", map[string]string{
			"X-Pixshare-Client-Addr": addr, "X-Pixshare-Hop-Token": "test-hop"}, good), 200)
	}
	// The limit is per account: another account from the same client logs
	// in. Registrations are limited per client: rita, sam and two more.
	samID, _ := h.register("sam")
	// Follow churn is limited per account.
	for range 3 {
		h.expect(h.do("PUT", "/v1/users/"+samID+"/follow", rita, nil), 204)
	}
	h.expect(h.do("DELETE", "/v1/users/"+samID+"/follow", rita, nil), 429)
	for i := range 2 {
		h.do("POST", "/v1/users/register", "", map[string]string{
			"username": fmt.Sprintf("spam%d", i), "email": fmt.Sprintf("spam%d@example.com", i), "password": "correct horse battery",
		})
	}
	h.expect(h.do("POST", "/v1/users/register", "", map[string]string{
		"username": "onemore", "email": "onemore@example.com", "password": "correct horse battery",
	}), 429)
}

func TestFindingPeopleAndRelationships(t *testing.T) {
	h := start(t)
	annaID, anna := h.register("anna")
	annikaID, _ := h.register("annika")
	_, bart := h.register("bart")
	bennyID, benny := h.register("benny")
	h.expect(h.do("PATCH", "/v1/users/me", benny, map[string]string{"display_name": "Anna Bell"}), 200)

	// Lookup ignores case; an unknown or malformed name is 404.
	got := h.expect(h.do("GET", "/v1/users/lookup?username=ANNA", "", nil), 200).json(t)
	if got["id"] != annaID || got["relationship"] != nil {
		t.Fatalf("lookup: %v", got)
	}
	h.expect(h.do("GET", "/v1/users/lookup?username=nobody", "", nil), 404)
	h.expect(h.do("GET", "/v1/users/lookup?username=%27%3B--", "", nil), 404)
	h.expect(h.do("GET", "/v1/users/lookup", "", nil), 400)

	// Ranking: the exact username, usernames by prefix, display names.
	names := func(token, q string) []string {
		var out []string
		for _, it := range h.expect(h.do("GET", "/v1/users?q="+q, token, nil), 200).items(t) {
			out = append(out, it["username"].(string))
		}
		return out
	}
	if got := names("", "ann"); strings.Join(got, ",") != "anna,annika,benny" {
		t.Fatalf("search ann = %v, want anna, annika, then benny (display name)", got)
	}
	if got := names("", "ANNIKA"); strings.Join(got, ",") != "annika" {
		t.Fatalf("search ANNIKA = %v, want the exact name", got)
	}
	// Cursor pages cover the same list in order, without repeats.
	first := h.expect(h.do("GET", "/v1/users?q=ann&limit=2", "", nil), 200).json(t)
	cursor, _ := first["next_cursor"].(string)
	if cursor == "" {
		t.Fatal("no next_cursor on a full first page")
	}
	rest := h.expect(h.do("GET", "/v1/users?q=ann&limit=2&cursor="+cursor, "", nil), 200).items(t)
	if len(rest) != 1 || rest[0]["username"] != "benny" {
		t.Fatalf("second page: %v", rest)
	}
	h.expect(h.do("GET", "/v1/users?q=", "", nil), 400)

	// Relationships, as the viewer sees them.
	h.expect(h.do("PUT", "/v1/users/"+annaID+"/follow", bart, nil), 204)
	rel := func(token, id string) map[string]any {
		return h.expect(h.do("GET", "/v1/users/"+id, token, nil), 200).json(t)["relationship"].(map[string]any)
	}
	if r := rel(bart, annaID); r["following"] != true || r["followed_by"] != false || r["blocking"] != false {
		t.Fatalf("bart → anna: %v", r)
	}
	bartID := h.expect(h.do("GET", "/v1/users/lookup?username=bart", "", nil), 200).json(t)["id"].(string)
	if r := rel(anna, bartID); r["following"] != false || r["followed_by"] != true {
		t.Fatalf("anna → bart: %v", r)
	}

	// Blocked pairs never find each other; the blocker lists whom they
	// block.
	h.expect(h.do("PUT", "/v1/users/"+annikaID+"/block", anna, nil), 204)
	if got := names(anna, "anni"); len(got) != 0 {
		t.Fatalf("the blocker found the blocked: %v", got)
	}
	if got := names("", "anni"); len(got) != 1 {
		t.Fatalf("anonymous search: %v", got)
	}
	blocks := h.expect(h.do("GET", "/v1/users/me/blocks", anna, nil), 200).items(t)
	if len(blocks) != 1 || blocks[0]["id"] != annikaID {
		t.Fatalf("anna's blocks: %v", blocks)
	}
	h.expect(h.do("GET", "/v1/users/me/blocks", "", nil), 401)
	_ = bennyID
}

func (r response) items(t *testing.T) []map[string]any {
	t.Helper()
	var l struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("not a list: %s", r.body)
	}
	return l.Items
}

// callerConn starts a bare app with the given app id beside its own
// sidecar and returns a connection to that sidecar.
func (h *harness) callerConn(t *testing.T, appID string) *grpc.ClientConn {
	t.Helper()
	daprToken, appToken := h.env.Tokens(appID)
	srv, err := grpcserver.New(grpcserver.Config{Host: "127.0.0.1", APIToken: appToken, MaxMessageBytes: 4 << 20}, nopLogger())
	if err != nil {
		t.Fatal(err)
	}
	side := h.env.Start(t, appID, srv.Port())
	srv.Start()
	t.Cleanup(func() { srv.Stop(context.Background()) })
	side.WaitApp(t)
	conn, err := sidecar.Dial(sidecar.Config{Host: "127.0.0.1", GRPCPort: side.GRPCPort, HTTPPort: side.HTTPPort,
		APIToken: daprToken, MaxMessageBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestCallerPolicy: only the services authenticate and ask the graph;
// only the thumbnailer reports avatars, whatever id a caller claims.
func TestCallerPolicy(t *testing.T) {
	h := start(t)
	_, token := h.register("frank")
	worker := h.callerConn(t, "thumbnailer")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := userv1.NewAuthServiceClient(sidecar.NewAppConn(worker, "user")).Authenticate(ctx, &userv1.AuthenticateRequest{Token: token})
	if !apperror.Is(err, apperror.Forbidden) {
		t.Fatalf("the thumbnailer authenticating a token: want refused, got %v", err)
	}
	// Claiming to be post in its own metadata does not help: its sidecar
	// appends the true id.
	forged := metadata.AppendToOutgoingContext(ctx, "dapr-caller-app-id", "post")
	_, err = userv1.NewGraphServiceClient(sidecar.NewAppConn(worker, "user")).IsBlocked(forged, &userv1.IsBlockedRequest{UserId: "a", OtherUserId: "b"})
	if !apperror.Is(err, apperror.Forbidden) {
		t.Fatalf("a forged caller id: want refused, got %v", err)
	}
	res, err := userv1.NewAvatarServiceClient(sidecar.NewAppConn(worker, "user")).MarkAvatarReady(ctx, &userv1.MarkAvatarReadyRequest{UserId: "nobody", Version: 1})
	if err != nil || res.GetStatus() != "stale" {
		t.Fatalf("the thumbnailer's avatar report: %v, %v", res, err)
	}
}
