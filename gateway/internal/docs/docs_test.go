package docs_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"pixshare/gateway/internal/docs"
	"pixshare/gateway/internal/upstream"
	"pixshare/platform/config"
	"pixshare/platform/health"
	"pixshare/platform/httpserver"
)

// commentDoc is a small second service document. It shares components
// with the user service's: Problem and bearer are equal (kept once), Limit
// differs (the user service's is kept, and the conflict logged). It also
// reuses operationId getMe and documents /healthz, which the gateway
// answers itself.
const commentDoc = `openapi: 3.0.3
info: {title: Pixshare comment service, version: 1.0.0}
servers: [{url: 'http://127.0.0.1:8083'}]
tags: [{name: comments}]
paths:
  /healthz:
    get:
      responses: {'200': {description: alive}}
  /v1/posts/{id}/comments:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    get:
      tags: [comments]
      operationId: listComments
      parameters: [{$ref: '#/components/parameters/Limit'}]
      responses:
        '200':
          description: A page of comments
          content:
            application/json:
              schema: {$ref: '#/components/schemas/CommentList'}
        '404': {$ref: '#/components/responses/Problem'}
    post:
      tags: [comments]
      operationId: getMe
      security: [{bearer: []}]
      responses:
        '201':
          description: Created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Comment'}
        '401': {$ref: '#/components/responses/Problem'}
components:
  securitySchemes:
    bearer:
      type: http
      scheme: bearer
      bearerFormat: JWT
  parameters:
    Limit:
      name: limit
      in: query
      description: Comments per page.
      schema: {type: integer, minimum: 1, maximum: 100}
  responses:
    Problem:
      description: An RFC 9457 problem document.
      content:
        application/problem+json:
          schema: {$ref: '#/components/schemas/Problem'}
  schemas:
    Problem:
      type: object
      required: [type, title, status]
      properties:
        type: {type: string}
        title: {type: string}
        status: {type: integer}
        detail: {type: string}
        instance: {type: string}
        request_id: {type: string}
        errors:
          type: array
          items:
            type: object
            required: [field, message]
            properties:
              field: {type: string}
              message: {type: string}
    Comment:
      type: object
      required: [id, post_id, author_id, body, created_at]
      properties:
        id: {type: string}
        post_id: {type: string}
        author_id: {type: string}
        body: {type: string}
        created_at: {type: string, format: date-time}
    CommentList:
      type: object
      required: [items]
      properties:
        items: {type: array, items: {$ref: '#/components/schemas/Comment'}}
        next_cursor: {type: string}
`

func userDoc(t *testing.T) []byte {
	t.Helper()
	// The user service's real document, from its module beside this one.
	b, err := os.ReadFile("../../../user/api/openapi.yaml")
	if err != nil {
		t.Fatalf("read the user service's document: %v", err)
	}
	return b
}

// docService serves doc at /openapi.yaml and counts the reads.
func docService(t *testing.T, doc []byte) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var reads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/openapi.yaml" {
			http.NotFound(w, r)
			return
		}
		reads.Add(1)
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(doc)
	}))
	t.Cleanup(srv.Close)
	return srv, &reads
}

func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

func newGateway(t *testing.T, env map[string]string, logger *zap.Logger) *httptest.Server {
	t.Helper()
	cfg, err := config.LoadFrom[upstream.Config](env)
	if err != nil {
		t.Fatal(err)
	}
	hcfg, err := config.LoadFrom[httpserver.Config](map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	transport := upstream.NewTransport(cfg)
	t.Cleanup(transport.CloseIdleConnections)
	rt := httpserver.NewRouter(hcfg, logger, health.NewRegistry(health.Params{}))
	docs.Register(rt, docs.ProvideMerger(cfg, hcfg, transport, logger), logger)
	srv := httptest.NewServer(rt.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func TestMergedDocument(t *testing.T) {
	t.Parallel()
	user, userReads := docService(t, userDoc(t))
	comment, _ := docService(t, []byte(commentDoc))
	core, logs := observer.New(zapcore.WarnLevel)
	gw := newGateway(t, map[string]string{
		"GATEWAY_USER_URL":    user.URL,
		"GATEWAY_COMMENT_URL": comment.URL,
		"GATEWAY_POST_URL":    closedURL(t), // routed, but down
		"GATEWAY_PUBLIC_URL":  "https://api.pixshare.example",
	}, zap.New(core))

	res, body := get(t, gw.URL+"/openapi.yaml")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/yaml") {
		t.Fatalf("GET /openapi.yaml: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if !strings.HasPrefix(string(body), "openapi: 3.0.3\ninfo:") {
		t.Fatalf("document does not start with openapi and info:\n%.200s", body)
	}
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		t.Fatalf("merged document does not parse: %v\n%s", err, body)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("merged document is not valid: %v\n%s", err, body)
	}

	if doc.Info.Title != "Pixshare API" {
		t.Errorf("title = %q", doc.Info.Title)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://api.pixshare.example" {
		t.Errorf("servers = %+v, want the gateway's URL only", doc.Servers)
	}
	if !strings.Contains(doc.Info.Description, "Left out") || !strings.Contains(doc.Info.Description, "post") {
		t.Errorf("description does not name the unreachable post service: %q", doc.Info.Description)
	}
	for _, path := range []string{"/v1/users/register", "/v1/users/login", "/v1/users/{id}/followers", "/v1/posts/{id}/comments"} {
		if doc.Paths.Value(path) == nil {
			t.Errorf("path %s missing", path)
		}
	}
	if doc.Paths.Value("/healthz") != nil {
		t.Error("/healthz is the gateway's own, not an API path")
	}
	for _, name := range []string{"Problem", "Me", "Comment", "CommentList"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("schema %s missing", name)
		}
	}
	if d := doc.Components.Parameters["Limit"].Value.Description; !strings.HasPrefix(d, "Page size") {
		t.Errorf("Limit parameter = %q, want the first (user service's) one kept", d)
	}
	if doc.Components.SecuritySchemes["bearer"] == nil || doc.Tags.Get("users") == nil || doc.Tags.Get("comments") == nil {
		t.Error("security scheme or tags missing")
	}
	if op := doc.Paths.Value("/v1/posts/{id}/comments").Post; op.OperationID != "comment_getMe" {
		t.Errorf("clashing operationId = %q, want it renamed comment_getMe", op.OperationID)
	}
	if doc.Paths.Value("/v1/users/me").Get.OperationID != "getMe" {
		t.Error("the first service's operationId must be kept")
	}
	if logs.FilterMessageSnippet("differs").FilterField(zap.String("component", "#/components/parameters/Limit")).Len() != 1 {
		t.Errorf("the differing Limit parameter was not logged once: %v", logs.All())
	}
	if logs.FilterMessageSnippet("differs").Len() != 1 {
		t.Errorf("equal components were reported as conflicts: %v", logs.All())
	}

	// The next read comes from the cache.
	if res, _ := get(t, gw.URL+"/openapi.yaml"); res.StatusCode != http.StatusOK {
		t.Fatalf("second GET: %d", res.StatusCode)
	}
	if n := userReads.Load(); n != 1 {
		t.Errorf("user document read %d times, want once (cached)", n)
	}
}

func TestDocumentWithoutAnyService(t *testing.T) {
	t.Parallel()
	gw := newGateway(t, map[string]string{"GATEWAY_USER_URL": closedURL(t)}, zaptest.NewLogger(t))
	res, body := get(t, gw.URL+"/openapi.yaml")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.yaml: %d\n%s", res.StatusCode, body)
	}
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("invalid: %v", err)
	}
	if doc.Paths.Len() != 0 || !strings.Contains(doc.Info.Description, "user") {
		t.Fatalf("want no paths and the user service named as left out:\n%s", body)
	}
}

var assetRef = regexp.MustCompile(`(?:href|src)="([^"]+)"`)

func TestDocsPageServesItsOwnAssets(t *testing.T) {
	t.Parallel()
	user, _ := docService(t, userDoc(t))
	gw := newGateway(t, map[string]string{"GATEWAY_USER_URL": user.URL}, zaptest.NewLogger(t))

	res, page := get(t, gw.URL+"/docs")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.Contains(string(page), "/openapi.yaml") {
		t.Fatal("the page does not load /openapi.yaml")
	}
	refs := assetRef.FindAllStringSubmatch(string(page), -1)
	if len(refs) < 3 {
		t.Fatalf("found %d asset references in the page:\n%s", len(refs), page)
	}
	for _, m := range refs {
		ref := m[1]
		if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
			t.Errorf("asset %q is not served by the gateway itself", ref)
			continue
		}
		res, body := get(t, gw.URL+ref)
		if res.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %d, %d bytes", ref, res.StatusCode, len(body))
		}
	}
	// The page and its trailing-slash form are the same; unknown assets
	// are problem documents.
	if res, _ := get(t, gw.URL+"/docs/"); res.StatusCode != http.StatusOK {
		t.Errorf("GET /docs/: %d", res.StatusCode)
	}
	res, body := get(t, gw.URL+"/docs/nope.js")
	if res.StatusCode != http.StatusNotFound || res.Header.Get("Content-Type") != httpserver.ProblemContentType {
		t.Errorf("GET /docs/nope.js: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}

func TestServerURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ public, addr, want string }{
		{"https://api.example", "127.0.0.1:8080", "https://api.example"},
		{"", "127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"", "0.0.0.0:8080", "http://localhost:8080"},
		{"", ":8080", "http://localhost:8080"},
		{"", "[::]:8080", "http://localhost:8080"},
	} {
		if got := docs.ServerURL(tt.public, tt.addr); got != tt.want {
			t.Errorf("ServerURL(%q, %q) = %q, want %q", tt.public, tt.addr, got, tt.want)
		}
	}
}
