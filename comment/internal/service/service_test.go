package service_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pixshare/comment/api"
	"pixshare/contracts/events"
	"pixshare/platform/apitest"
	"pixshare/platform/daprtest"
	"pixshare/platform/openapi/openapitest"
)

// stack runs user, post and comment beside real sidecars on one embedded
// JetStream broker.
type stack struct {
	user, post, comment *daprtest.App
	broker              *daprtest.Broker
	doc                 *openapitest.Doc
}

func startStack(t *testing.T) *stack {
	t.Helper()
	broker := daprtest.StartBroker(t, events.Topics)
	env := daprtest.NewEnv(t, daprtest.JetStreamPubSub(broker.Port), daprtest.SharedCache, daprtest.LocalImages, daprtest.LocalSecrets)
	env.WriteSecrets(t, `{"jwt-signing-key": "a-test-signing-key-that-is-long-enough-0123456789"}`)
	cheapHash := map[string]string{"ARGON2_MEMORY_KIB": "8192", "ARGON2_ITERATIONS": "1"}
	return &stack{
		broker:  broker,
		user:    env.StartApp(t, "user", "pixshare/user/cmd/user", cheapHash),
		post:    env.StartApp(t, "post", "pixshare/post/cmd/post", cheapHash),
		comment: env.StartApp(t, "comment", "pixshare/comment/cmd/comment", cheapHash),
		doc:     openapitest.Load(t, api.OpenAPI),
	}
}

// account registers on the user service and returns a comment-service
// client acting as the new user (responses checked against the document).
func (s *stack) account(t *testing.T, name string) (id string, c *apitest.Client) {
	t.Helper()
	u := apitest.New(t, s.user.BaseURL)
	id = u.Register(name)
	c = apitest.New(t, s.comment.BaseURL).As(u.Token)
	c.Check = func(req *http.Request, res *http.Response, body []byte) { s.doc.CheckResponse(t, req, res, body) }
	return id, c
}

func (s *stack) userAPI(t *testing.T, c *apitest.Client) *apitest.Client {
	return apitest.New(t, s.user.BaseURL).As(c.Token)
}

func (s *stack) upload(t *testing.T, c *apitest.Client) string {
	t.Helper()
	root, _ := daprtest.RepoRoot()
	img, err := os.ReadFile(filepath.Join(root, "testdata", "photos", "small.png"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("image", "x.png")
	_, _ = fw.Write(img)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", s.post.BaseURL+"/v1/posts", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("upload: %v %v", res.StatusCode, err)
	}
	defer res.Body.Close()
	return apitest.Response{Body: readAll(res)}.JSON(t)["id"].(string)
}

func readAll(res *http.Response) []byte {
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return b.Bytes()
}

func (s *stack) commentCount(t *testing.T, postID string) float64 {
	t.Helper()
	r := apitest.New(t, s.post.BaseURL).Do("GET", "/v1/posts/"+postID, nil)
	if r.Status != 200 {
		return -1
	}
	return r.JSON(t)["comment_count"].(float64)
}

// TestAuthorizationMatrix checks every route for the comment's author, the
// post's author, another user, users blocked either way, an anonymous
// caller and a deleted account.
func TestAuthorizationMatrix(t *testing.T) {
	s := startStack(t)
	postAuthorID, postAuthor := s.account(t, "poster")
	_, writer := s.account(t, "writer")
	_, other := s.account(t, "other")
	blockedID, blocked := s.account(t, "blocked")
	_, blocker := s.account(t, "blocker")
	_, gone := s.account(t, "gone")
	anon := apitest.New(t, s.comment.BaseURL)
	anon.Check = writer.Check

	postID := s.upload(t, postAuthor)
	s.userAPI(t, postAuthor).Expect(204, "PUT", "/v1/users/"+blockedID+"/block", nil)
	s.userAPI(t, blocker).Expect(204, "PUT", "/v1/users/"+postAuthorID+"/block", nil)
	s.userAPI(t, gone).Expect(204, "DELETE", "/v1/users/me", map[string]string{"current_password": "correct horse battery"})
	base := "/v1/posts/" + postID + "/comments"

	// Create: everyone who can see the post; nobody else.
	for _, tc := range []struct {
		name   string
		c      *apitest.Client
		status int
	}{
		{"writer", writer, 201}, {"post author", postAuthor, 201}, {"other", other, 201},
		{"blocked by the post's author", blocked, 404}, {"blocking the post's author", blocker, 404},
		{"anonymous", anon, 401}, {"deleted account", gone, 401},
	} {
		t.Run("create/"+tc.name, func(t *testing.T) {
			tc.c.Expect(tc.status, "POST", base, map[string]string{"body": "hello from " + tc.name})
		})
	}
	writer.Expect(422, "POST", base, map[string]string{"body": "   "})
	writer.Expect(422, "POST", base, map[string]string{"body": strings.Repeat("x", 2201)})
	writer.Expect(422, "POST", base, map[string]any{})
	writer.Expect(400, "POST", base, map[string]any{"body": "x", "author_id": blockedID})
	writer.Expect(404, "POST", "/v1/posts/no-such-post/comments", map[string]string{"body": "x"})

	items := writer.Expect(200, "GET", base, nil).Items(t)
	if len(items) != 3 {
		t.Fatalf("want 3 comments, got %d", len(items))
	}
	mine := items[0]["id"].(string) // the writer's
	one := base + "/" + mine

	// Read: blocked pairs cannot list the post's comments.
	anon.Expect(200, "GET", base, nil)
	blocked.Expect(404, "GET", base, nil)
	blocker.Expect(404, "GET", base, nil)

	// Edit: only the comment's author.
	for _, tc := range []struct {
		name   string
		c      *apitest.Client
		status int
	}{
		{"post author", postAuthor, 403}, {"other", other, 403}, {"blocked", blocked, 404}, {"blocker", blocker, 404},
		{"anonymous", anon, 401}, {"deleted account", gone, 401}, {"writer", writer, 200},
	} {
		t.Run("edit/"+tc.name, func(t *testing.T) {
			tc.c.Expect(tc.status, "PATCH", one, map[string]string{"body": "edited by " + tc.name})
		})
	}
	if got := writer.Expect(200, "GET", base, nil).Items(t)[0]["body"]; got != "edited by writer" {
		t.Fatalf("body = %v: a refused edit changed the comment", got)
	}

	// Delete: the comment's author or the post's author.
	otherComment := base + "/" + items[2]["id"].(string) // other's
	for _, tc := range []struct {
		name   string
		c      *apitest.Client
		path   string
		status int
	}{
		{"other deleting writer's", other, one, 403}, {"blocked", blocked, one, 404}, {"anonymous", anon, one, 401},
		{"deleted account", gone, one, 401}, {"post author deleting other's", postAuthor, otherComment, 204},
		{"writer deleting own", writer, one, 204}, {"writer deleting again", writer, one, 404},
	} {
		t.Run("delete/"+tc.name, func(t *testing.T) { tc.c.Expect(tc.status, "DELETE", tc.path, nil) })
	}
	if n := len(writer.Expect(200, "GET", base, nil).Items(t)); n != 1 {
		t.Fatalf("%d comments left, want 1", n)
	}
	apitest.Eventually(t, 30*time.Second, "comment_count to follow", func() bool { return s.commentCount(t, postID) == 1 })
}

// TestCascades: deleting a post removes its comments; deleting an account
// removes the account's comments everywhere (and their counts), through
// the real broker.
func TestCascades(t *testing.T) {
	s := startStack(t)
	_, alice := s.account(t, "alice")
	_, bob := s.account(t, "bob")
	p1, p2 := s.upload(t, alice), s.upload(t, alice)
	for _, p := range []string{p1, p2} {
		bob.Expect(201, "POST", "/v1/posts/"+p+"/comments", map[string]string{"body": "bob was here"})
		alice.Expect(201, "POST", "/v1/posts/"+p+"/comments", map[string]string{"body": "thanks"})
	}
	apitest.Eventually(t, 30*time.Second, "comment counts", func() bool {
		return s.commentCount(t, p1) == 2 && s.commentCount(t, p2) == 2
	})

	s.userAPI(t, bob).Expect(204, "DELETE", "/v1/users/me", map[string]string{"current_password": "correct horse battery"})
	apitest.Eventually(t, 30*time.Second, "bob's comments to go", func() bool {
		items := alice.Expect(200, "GET", "/v1/posts/"+p2+"/comments", nil).Items(t)
		return len(items) == 1 && s.commentCount(t, p2) == 1 && s.commentCount(t, p1) == 1
	})

	post := apitest.New(t, s.post.BaseURL).As(alice.Token)
	post.Expect(204, "DELETE", "/v1/posts/"+p1, nil)
	apitest.Eventually(t, 30*time.Second, "the deleted post's comments to go", func() bool {
		return alice.Do("GET", "/v1/posts/"+p1+"/comments", nil).Status == 404
	})
	// Once the event is consumed, the rows are gone too (not just hidden by
	// the post's 404): count them in the comment database.
	apitest.Eventually(t, 30*time.Second, "rows of the deleted post to be soft-deleted", func() bool {
		return liveComments(t, s.comment, p1) == 0
	})
	if n := liveComments(t, s.comment, p2); n != 1 {
		t.Fatalf("post %s has %d live comments, want 1", p2, n)
	}
}

func liveComments(t *testing.T, app *daprtest.App, postID string) int64 {
	t.Helper()
	db := daprtest.OpenDB(t, app)
	var n int64
	if err := db.Table("comments").Where("post_id = ? AND deleted_at IS NULL", postID).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// publish sends an event through an app's sidecar, as a redelivery would
// arrive.
func publish(t *testing.T, via *daprtest.App, eventType, id string, payload string) {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/v1.0/publish/pubsub/domain-events?metadata.cloudevent.type=%s&metadata.cloudevent.id=%s",
		via.Side.HTTPPort, eventType, id)
	req, _ := http.NewRequest("POST", url, strings.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("dapr-api-token", via.Side.DaprAPIToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode/100 != 2 {
		t.Fatalf("publish %s: %v %v", eventType, res.StatusCode, err)
	}
	res.Body.Close()
}

// TestDuplicateDeliveries re-publishes events that were already applied:
// counts and cascades do not move.
func TestDuplicateDeliveries(t *testing.T) {
	s := startStack(t)
	aliceID, alice := s.account(t, "alice")
	p := s.upload(t, alice)
	c := alice.Expect(201, "POST", "/v1/posts/"+p+"/comments", map[string]string{"body": "one"}).JSON(t)
	alice.Expect(201, "POST", "/v1/posts/"+p+"/comments", map[string]string{"body": "two"})
	apitest.Eventually(t, 30*time.Second, "count 2", func() bool { return s.commentCount(t, p) == 2 })

	created := fmt.Sprintf(`{"comment_id":%q,"post_id":%q,"author_id":%q}`, c["id"], p, aliceID)
	for i := range 3 {
		publish(t, s.comment, "comment.created", fmt.Sprintf("dup-%d", i), created)
	}
	alice.Expect(204, "DELETE", "/v1/posts/"+p+"/comments/"+c["id"].(string), nil)
	apitest.Eventually(t, 30*time.Second, "count 1 after the deletion", func() bool { return s.commentCount(t, p) == 1 })
	deleted := fmt.Sprintf(`{"comment_id":%q,"post_id":%q,"author_id":%q}`, c["id"], p, aliceID)
	for i := range 3 {
		publish(t, s.comment, "comment.deleted", fmt.Sprintf("dup-del-%d", i), deleted)
	}
	// Once the post service has acknowledged everything on its topic, every
	// duplicate has been handled.
	s.broker.WaitDrained(t, "post")
	if n := s.commentCount(t, p); n != 1 {
		t.Fatalf("comment_count = %v after duplicate deliveries, want 1", n)
	}
}
