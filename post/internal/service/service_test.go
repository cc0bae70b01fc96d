package service_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pixshare/contracts/events"
	"pixshare/platform/daprtest"
	"pixshare/platform/database"
	"pixshare/platform/openapi/openapitest"
	"pixshare/post/api"
)

// stack is user + post (+ thumbnailer) beside real sidecars, sharing an
// embedded JetStream broker, in-memory caches, a local-storage images
// binding and a local secret store.
type stack struct {
	t      *testing.T
	env    *daprtest.Env
	broker *daprtest.Broker
	user   *daprtest.App
	post   *daprtest.App
	doc    *openapitest.Doc
	photos string
}

func startStack(t *testing.T, withThumbnailer bool, postEnv map[string]string) *stack {
	t.Helper()
	broker := daprtest.StartBroker(t, events.Topics)
	env := daprtest.NewEnv(t, daprtest.JetStreamPubSub(broker.Port), daprtest.SharedCache, daprtest.LocalImages, daprtest.LocalSecrets)
	env.WriteSecrets(t, `{"jwt-signing-key": "a-test-signing-key-that-is-long-enough-0123456789"}`)
	root, err := daprtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{t: t, env: env, broker: broker, doc: openapitest.Load(t, api.OpenAPI), photos: filepath.Join(root, "testdata", "photos")}
	s.user = env.StartApp(t, "user", "pixshare/user/cmd/user", map[string]string{"ARGON2_MEMORY_KIB": "8192", "ARGON2_ITERATIONS": "1"})
	pe := map[string]string{}
	for k, v := range postEnv {
		pe[k] = v
	}
	s.post = env.StartApp(t, "post", "pixshare/post/cmd/post", pe)
	if withThumbnailer {
		env.StartApp(t, "thumbnailer", "pixshare/workers/cmd/thumbnailer", nil)
	}
	return s
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) post(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON: %s", r.body)
	}
	return m
}

func (s *stack) send(req *http.Request, token string, check bool) response {
	s.t.Helper()
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if check {
		s.doc.CheckResponse(s.t, req, res, b)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (s *stack) do(method, path, token string, body any) response {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.post.BaseURL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return s.send(req, token, true)
}

func expect(t *testing.T, r response, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

// account registers and logs in a user on the real user service.
func (s *stack) account(name string) (id, token string) {
	s.t.Helper()
	body := fmt.Sprintf(`{"username":%q,"email":"%s@example.com","password":"correct horse battery"}`, name, name)
	res, err := http.Post(s.user.BaseURL+"/v1/users/register", "application/json", strings.NewReader(body))
	if err != nil || res.StatusCode != 201 {
		s.t.Fatalf("register %s: %v %v", name, res.StatusCode, err)
	}
	var u map[string]any
	_ = json.NewDecoder(res.Body).Decode(&u)
	res.Body.Close()
	res, err = http.Post(s.user.BaseURL+"/v1/users/login", "application/json",
		strings.NewReader(fmt.Sprintf(`{"username":%q,"password":"correct horse battery"}`, name)))
	if err != nil || res.StatusCode != 200 {
		s.t.Fatalf("login %s: %v", name, err)
	}
	var l map[string]any
	_ = json.NewDecoder(res.Body).Decode(&l)
	res.Body.Close()
	return u["id"].(string), l["access_token"].(string)
}

func (s *stack) userCall(method, path, token string) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.user.BaseURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode/100 != 2 {
		s.t.Fatalf("%s %s: %v %v", method, path, res.StatusCode, err)
	}
	res.Body.Close()
}

// upload sends a multipart upload; image may be nil.
func (s *stack) upload(token string, image []byte, fields map[string][]string) response {
	s.t.Helper()
	return s.uploadWithKey(token, "", image, fields)
}

// uploadWithKey is upload with an Idempotency-Key.
func (s *stack) uploadWithKey(token, key string, image []byte, fields map[string][]string) response {
	s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if image != nil {
		fw, _ := mw.CreateFormFile("image", "../../etc/passwd")
		_, _ = fw.Write(image)
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", s.post.BaseURL+"/v1/posts", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	return s.send(req, token, true)
}

func (s *stack) photo(name string) []byte {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.photos, name))
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// stored counts post rows and stored blobs.
func (s *stack) stored() (rows int64, blobs int) {
	s.t.Helper()
	db, err := database.Open(s.t.Context(), database.Config{URL: s.post.Env["DATABASE_URL"], MaxOpenConns: 1}, nopLogger())
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	}()
	if err := db.Table("posts").Count(&rows).Error; err != nil {
		s.t.Fatal(err)
	}
	_ = filepath.Walk(filepath.Join(s.env.Dir, "images"), func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			blobs++
		}
		return nil
	})
	return rows, blobs
}

func (s *stack) waitFor(what string, cond func() bool) {
	s.t.Helper()
	daprtest.WaitFor(s.t, 60*time.Second, what, cond)
}

func TestRoutesMatchDocument(t *testing.T) {
	// The router is inspected in-process; the document is the one served.
	doc := openapitest.Load(t, api.OpenAPI)
	rt := newRouterForTest(t)
	doc.CheckRoutes(t, rt.Mux)
}

func TestUploadRefusalsStoreNothing(t *testing.T) {
	s := startStack(t, false, map[string]string{"UPLOAD_MAX_BYTES": "1048576"})
	_, token := s.account("alice")
	big := append(s.photo("landscape.jpg"), bytes.Repeat([]byte{0}, 1<<20)...)
	tests := []struct {
		name   string
		token  string
		image  []byte
		fields map[string][]string
		status int
	}{
		{"no token", "", s.photo("landscape.jpg"), nil, 401},
		{"bad token", "garbage", s.photo("landscape.jpg"), nil, 401},
		{"too large", token, big, nil, 413},
		{"not an image", token, s.photo("not-an-image.txt"), nil, 415},
		{"pixel bomb", token, s.photo("bomb.png"), nil, 422},
		{"corrupt header", token, []byte("\x89PNG\r\n\x1a\n\x00\x00"), nil, 422},
		{"bad tag", token, s.photo("landscape.jpg"), map[string][]string{"tags": {"ok,not ok"}}, 422},
		{"too many tags", token, s.photo("landscape.jpg"), map[string][]string{"tags": {strings.Repeat("t,", 0) + manyTags(31)}}, 422},
		{"caption too long", token, s.photo("landscape.jpg"), map[string][]string{"caption": {strings.Repeat("é", 2201)}}, 422},
		{"no image", token, nil, map[string][]string{"caption": {"hi"}}, 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.upload(tt.token, tt.image, tt.fields)
			expect(t, r, tt.status)
			if r.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("no problem document: %s", r.header.Get("Content-Type"))
			}
			if rows, blobs := s.stored(); rows != 0 || blobs != 0 {
				t.Fatalf("a refused upload stored %d rows and %d blobs", rows, blobs)
			}
		})
	}
	// Not multipart at all.
	req, _ := http.NewRequest("POST", s.post.BaseURL+"/v1/posts", strings.NewReader(`{"image":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	expect(t, s.send(req, token, true), 415)
}

func manyTags(n int) string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("tag%d", i)
	}
	return strings.Join(tags, ",")
}

func TestOthersCannotChangePosts(t *testing.T) {
	s := startStack(t, false, nil)
	aliceID, alice := s.account("alice")
	_, bob := s.account("bob")
	carolID, carol := s.account("carol")

	created := expect(t, s.upload(alice, s.photo("landscape.jpg"), map[string][]string{"caption": {"mine"}, "tags": {"#Sea, sun", "sea"}}), 202).post(t)
	id := created["id"].(string)
	if created["status"] != "processing" || created["version"] != float64(1) || fmt.Sprint(created["tags"]) != "[sea sun]" {
		t.Fatalf("created = %v", created)
	}
	if rows, blobs := s.stored(); rows != 1 || blobs != 1 {
		t.Fatalf("stored %d rows, %d blobs after one upload", rows, blobs)
	}

	// A retried upload with the same Idempotency-Key makes no second post.
	first := expect(t, s.uploadWithKey(alice, "retry-1", s.photo("small.png"), nil), 202)
	again := expect(t, s.uploadWithKey(alice, "retry-1", s.photo("small.png"), nil), 202)
	if first.post(t)["id"] != again.post(t)["id"] || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a retry made a second post: %s vs %s", first.body, again.body)
	}
	if rows, blobs := s.stored(); rows != 2 || blobs != 2 {
		t.Fatalf("stored %d rows, %d blobs after an upload and its retry", rows, blobs)
	}
	expect(t, s.uploadWithKey(alice, "bad key!", s.photo("small.png"), nil), 400)
	// The key is unique among live posts only: after the post is deleted,
	// the same key makes a new post.
	expect(t, s.do("DELETE", "/v1/posts/"+first.post(t)["id"].(string), alice, nil), 204)
	reused := expect(t, s.uploadWithKey(alice, "retry-1", s.photo("small.png"), nil), 202)
	if reused.post(t)["id"] == first.post(t)["id"] || reused.header.Get("Idempotent-Replayed") == "true" {
		t.Fatalf("a key reused after its post was deleted answered the deleted post: %s", reused.body)
	}

	expect(t, s.do("PATCH", "/v1/posts/"+id, bob, map[string]any{"caption": "hacked"}), 403)
	expect(t, s.do("DELETE", "/v1/posts/"+id, bob, nil), 403)
	expect(t, s.do("PATCH", "/v1/posts/"+id, "", map[string]any{"caption": "hacked"}), 401)
	expect(t, s.do("PATCH", "/v1/posts/"+id, alice, map[string]any{"caption": "x", "author_id": carolID}), 400)
	expect(t, s.do("PATCH", "/v1/posts/"+id, alice, map[string]any{"status": "ready"}), 400)

	// Carol is blocked by Alice: the post is absent for her.
	s.userCall("PUT", "/v1/users/"+carolID+"/block", alice)
	expect(t, s.do("GET", "/v1/posts/"+id, carol, nil), 404)
	expect(t, s.do("PATCH", "/v1/posts/"+id, carol, map[string]any{"caption": "hacked"}), 404)
	expect(t, s.do("DELETE", "/v1/posts/"+id, carol, nil), 404)
	expect(t, s.do("GET", "/v1/posts/"+id+"/image?size=thumb", carol, nil), 404)
	list := expect(t, s.do("GET", "/v1/posts?author="+aliceID, carol, nil), 200).post(t)
	if items := list["items"].([]any); len(items) != 0 {
		t.Fatalf("a blocked user lists the blocker's posts: %v", items)
	}

	got := expect(t, s.do("GET", "/v1/posts/"+id, bob, nil), 200).post(t)
	if got["caption"] != "mine" || got["version"] != float64(1) {
		t.Fatalf("refused changes changed the post: %v", got)
	}
	edited := expect(t, s.do("PATCH", "/v1/posts/"+id, alice, map[string]any{"caption": "better", "tags": []string{"#Night"}}), 200).post(t)
	if edited["version"] != float64(2) || fmt.Sprint(edited["tags"]) != "[night]" {
		t.Fatalf("edit = %v", edited)
	}
	expect(t, s.do("GET", "/v1/posts/"+id+"/image?size=huge", alice, nil), 400)
	r := expect(t, s.do("GET", "/v1/posts/"+id+"/image?size=thumb", alice, nil), 404)
	if r.header.Get("Retry-After") == "" {
		t.Fatal("a size not made yet must say when to retry")
	}
	expect(t, s.do("DELETE", "/v1/posts/"+id, alice, nil), 204)
	for _, path := range []string{"/v1/posts/" + id, "/v1/posts/" + id + "/image?size=original"} {
		expect(t, s.do("GET", path, alice, nil), 404)
	}
	expect(t, s.do("PATCH", "/v1/posts/"+id, alice, map[string]any{"caption": "again"}), 404)
}

// decodeJPEG returns the dimensions of a served image and fails on any
// metadata segment that could carry EXIF or GPS.
func decodeJPEG(t *testing.T, b []byte) (w, h int) {
	t.Helper()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || format != "jpeg" {
		t.Fatalf("not a JPEG: %v %s", err, format)
	}
	if bytes.Contains(b, []byte("Exif\x00")) || bytes.Contains(b, []byte("GPS")) {
		t.Fatal("served image carries EXIF/GPS")
	}
	return cfg.Width, cfg.Height
}

// originalOrientation checks the served original: a JPEG whose only EXIF
// is a one-entry IFD holding the Orientation tag (the original is the
// upload stripped losslessly, so its pixels stay as shot and the tag says
// how to turn them), and returns that orientation.
func originalOrientation(t *testing.T, b []byte) int {
	t.Helper()
	if _, format, err := image.DecodeConfig(bytes.NewReader(b)); err != nil || format != "jpeg" {
		t.Fatalf("original is not a JPEG: %v %s", err, format)
	}
	if bytes.Contains(b, []byte("GPS")) || bytes.Count(b, []byte("Exif\x00\x00")) != 1 {
		t.Fatal("original carries metadata beyond one EXIF block")
	}
	tiff := b[bytes.Index(b, []byte("Exif\x00\x00"))+6:]
	// "MM", 42, IFD0 at 8, one entry: tag 0x0112 (Orientation), SHORT, count 1.
	want := []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01")
	if len(tiff) < len(want)+2 || !bytes.Equal(tiff[:len(want)], want) {
		t.Fatalf("original's EXIF holds more than the Orientation tag: % x", tiff[:min(len(tiff), 32)])
	}
	return int(tiff[len(want)])<<8 | int(tiff[len(want)+1])
}

func TestUploadToThumbnails(t *testing.T) {
	s := startStack(t, true, nil)
	_, token := s.account("alice")
	id := expect(t, s.upload(token, s.photo("portrait-exif6.jpg"), map[string][]string{"tags": {"portrait"}}), 202).post(t)["id"].(string)

	var post map[string]any
	s.waitFor("thumbnail_ready", func() bool {
		post = s.do("GET", "/v1/posts/"+id, token, nil).post(t)
		return post["thumbnail_ready"] == true
	})
	if post["width"].(float64) >= post["height"].(float64) {
		t.Fatalf("reported dimensions are not upright: %vx%v", post["width"], post["height"])
	}
	widths := map[string]int{"small": 320, "medium": 640}
	for _, size := range []string{"thumb", "small", "medium", "large", "original"} {
		r := expect(t, s.do("GET", "/v1/posts/"+id+"/image?size="+size, token, nil), 200)
		if size == "original" {
			if o := originalOrientation(t, r.body); o != 6 {
				t.Fatalf("original keeps orientation %d, want the upload's 6", o)
			}
		} else {
			w, h := decodeJPEG(t, r.body)
			if size == "thumb" && (w != 150 || h != 150) {
				t.Fatalf("thumb is %dx%d", w, h)
			}
			if size != "thumb" && w >= h {
				t.Fatalf("%s is %dx%d: not portrait (EXIF orientation ignored)", size, w, h)
			}
			if want, ok := widths[size]; ok && w != want {
				t.Fatalf("%s is %d wide, want %d", size, w, want)
			}
		}
		// The thumbnailer reported each rendition's bytes: the answer
		// has its length (the blob store's answer has none), and so
		// does a HEAD.
		if cl := r.header.Get("Content-Length"); cl != strconv.Itoa(len(r.body)) {
			t.Fatalf("%s: Content-Length %q for %d bytes", size, cl, len(r.body))
		}
		head, _ := http.NewRequest("HEAD", s.post.BaseURL+"/v1/posts/"+id+"/image?size="+size, nil)
		if got := s.send(head, token, true); got.status != 200 || got.header.Get("Content-Length") != strconv.Itoa(len(r.body)) {
			t.Fatalf("HEAD %s: %d, Content-Length %q, want %d", size, got.status, got.header.Get("Content-Length"), len(r.body))
		}
		etag := r.header.Get("ETag")
		req, _ := http.NewRequest("GET", s.post.BaseURL+"/v1/posts/"+id+"/image?size="+size, nil)
		req.Header.Set("If-None-Match", etag)
		if got := s.send(req, token, true); got.status != 304 {
			t.Fatalf("If-None-Match: %d, want 304", got.status)
		}
	}
}

func TestCorruptImageFails(t *testing.T) {
	s := startStack(t, true, nil)
	_, token := s.account("alice")
	// corrupt.jpg has a valid header (accepted at upload) and truncated data.
	id := expect(t, s.upload(token, s.photo("corrupt.jpg"), nil), 202).post(t)["id"].(string)
	good := expect(t, s.upload(token, s.photo("landscape.jpg"), nil), 202).post(t)["id"].(string)
	s.waitFor("the corrupt post to fail and the good one to get thumbnails", func() bool {
		bad := s.do("GET", "/v1/posts/"+id, token, nil).post(t)
		ok := s.do("GET", "/v1/posts/"+good, token, nil).post(t)
		return bad["status"] == "failed" && ok["thumbnail_ready"] == true
	})
	r := expect(t, s.do("GET", "/v1/posts/"+id+"/image?size=thumb", token, nil), 404)
	if r.header.Get("Retry-After") != "" {
		t.Fatal("a failed image must not invite retries")
	}
}

// TestOutboxSurvivesBrokerOutage uploads while the broker is down: the
// uploads are accepted, and once the broker is back every post gets its
// thumbnails.
func TestOutboxSurvivesBrokerOutage(t *testing.T) {
	s := startStack(t, true, nil)
	_, token := s.account("alice")
	s.broker.Shutdown()
	var ids []string
	for range 3 {
		ids = append(ids, expect(t, s.upload(token, s.photo("landscape.jpg"), nil), 202).post(t)["id"].(string))
	}
	s.broker = daprtest.RestartBroker(t, s.broker)
	s.waitFor("every post uploaded during the outage to get thumbnails", func() bool {
		for _, id := range ids {
			if s.do("GET", "/v1/posts/"+id, token, nil).post(t)["thumbnail_ready"] != true {
				return false
			}
		}
		return true
	})
}

// TestCopiesFollowEveryChange: a replica serves the posts it read from its
// own copies, and the very next read after a like, an unlike, an edit or a
// deletion shows the change. A like renews the post's stamp and this
// replica's own reading of it (a reading from just before the like would
// otherwise be used for the rest of its window); an edit and a deletion
// change the stamp before they answer.
func TestCopiesFollowEveryChange(t *testing.T) {
	s := startStack(t, false, nil)
	_, alice := s.account("alice")
	_, bob := s.account("bob")
	id := expect(t, s.upload(alice, s.photo("small.png"), map[string][]string{"caption": {"before"}}), 202).post(t)["id"].(string)
	read := func(token string) map[string]any {
		t.Helper()
		return expect(t, s.do("GET", "/v1/posts/"+id, token, nil), 200).post(t)
	}
	check := func(step string, p map[string]any, liked bool, likes float64, caption string) {
		t.Helper()
		if p["liked"] != liked || p["like_count"] != likes || p["caption"] != caption {
			t.Fatalf("%s: liked=%v like_count=%v caption=%v, want %v, %v, %q", step, p["liked"], p["like_count"], p["caption"], liked, likes, caption)
		}
	}
	check("first read", read(bob), false, 0, "before")
	check("second read (a copy)", read(bob), false, 0, "before")

	expect(t, s.do("PUT", "/v1/posts/"+id+"/like", bob, nil), 204)
	check("after the like, the liker", read(bob), true, 1, "before")
	check("after the like, the author", read(alice), false, 1, "before")

	expect(t, s.do("DELETE", "/v1/posts/"+id+"/like", bob, nil), 204)
	check("after the unlike", read(bob), false, 0, "before")

	expect(t, s.do("PATCH", "/v1/posts/"+id, alice, map[string]any{"caption": "after"}), 200)
	check("after the edit", read(bob), false, 0, "after")

	expect(t, s.do("DELETE", "/v1/posts/"+id, alice, nil), 204)
	expect(t, s.do("GET", "/v1/posts/"+id, bob, nil), 404)
	expect(t, s.do("GET", "/v1/posts/"+id+"/image?size=original", bob, nil), 404)
}

// TestReadsWaitForProcessing reads processing posts with "Prefer: wait":
// the answer comes when the processing moves on (here, once a thumbnailer
// started after the read has made every size), when the post is deleted,
// when the wait runs out, or when the server stops. The recheck is an hour,
// so only this replica's own reports can wake a read.
func TestReadsWaitForProcessing(t *testing.T) {
	s := startStack(t, false, map[string]string{"PROCESSING_WAIT_MAX": "60s", "PROCESSING_WAIT_RECHECK": "1h"})
	_, alice := s.account("alice")
	_, bob := s.account("bob")
	first := expect(t, s.upload(alice, s.photo("landscape.jpg"), nil), 202).post(t)["id"].(string)
	second := expect(t, s.upload(alice, s.photo("small.png"), nil), 202).post(t)["id"].(string)
	third := expect(t, s.upload(alice, s.photo("small.png"), nil), 202).post(t)["id"].(string)

	read := func(id, token, prefer string) response {
		t.Helper()
		req, _ := http.NewRequest("GET", s.post.BaseURL+"/v1/posts/"+id, nil)
		if prefer != "" {
			req.Header.Set("Prefer", prefer)
		}
		return s.send(req, token, true)
	}
	type answer struct {
		r   response
		err error
	}
	// readLater sends a waiting read and gives it time to arrive before
	// the caller changes anything.
	readLater := func(id, token, prefer string) <-chan answer {
		done := make(chan answer, 1)
		go func() {
			req, _ := http.NewRequest("GET", s.post.BaseURL+"/v1/posts/"+id, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Prefer", prefer)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- answer{err: err}
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			done <- answer{r: response{status: res.StatusCode, header: res.Header, body: b}, err: err}
		}()
		time.Sleep(300 * time.Millisecond)
		return done
	}

	// Without the preference, or with one that is not a number, the
	// answer comes at once and says nothing was applied.
	for _, prefer := range []string{"", "wait=soon", "respond-async"} {
		r := expect(t, read(first, bob, prefer), 200)
		if got := r.header.Get("Preference-Applied"); got != "" || r.post(t)["status"] != "processing" {
			t.Fatalf("Prefer %q: Preference-Applied %q, status %v", prefer, got, r.post(t)["status"])
		}
	}
	// A wait that runs out answers the post as it is, saying it waited.
	r := expect(t, read(first, bob, "respond-async, wait=1"), 200)
	if got := r.header.Get("Preference-Applied"); got != "wait=1" || r.post(t)["thumbnail_ready"] != false {
		t.Fatalf("a wait that ran out: Preference-Applied %q, thumbnail_ready %v", got, r.post(t)["thumbnail_ready"])
	}
	if !slices.Contains(r.header.Values("Vary"), "Prefer") {
		t.Fatalf("Vary %q, want Prefer among them", r.header.Values("Vary"))
	}

	// A deletion answers the reads waiting on the post.
	waiting := readLater(second, bob, "wait=60")
	expect(t, s.do("DELETE", "/v1/posts/"+second, alice, nil), 204)
	if a := <-waiting; a.err != nil || a.r.status != 404 {
		t.Fatalf("a read waiting on a deleted post: %v %d %s", a.err, a.r.status, a.r.body)
	}

	// The thumbnailer's report answers the read waiting on the post.
	waiting = readLater(first, bob, "wait=60")
	s.env.StartApp(t, "thumbnailer", "pixshare/workers/cmd/thumbnailer", nil)
	a := <-waiting
	if a.err != nil || a.r.status != 200 {
		t.Fatalf("a read waiting for thumbnails: %v %d %s", a.err, a.r.status, a.r.body)
	}
	if got := a.r.post(t); got["thumbnail_ready"] != true || a.r.header.Get("Preference-Applied") != "wait=60" {
		t.Fatalf("a read waiting for thumbnails answered thumbnail_ready=%v, Preference-Applied %q", got["thumbnail_ready"], a.r.header.Get("Preference-Applied"))
	}
	// No search indexer runs here, so the first post stays processing
	// (not indexed) and the third is now waiting for it too: stopping
	// the server answers the reads still waiting, before it drains.
	s.waitFor("the third post's thumbnails", func() bool {
		return read(third, alice, "").post(t)["thumbnail_ready"] == true
	})
	waiting = readLater(third, bob, "wait=60")
	s.post.Stop()
	a = <-waiting
	if a.err != nil || a.r.status != 200 || a.r.post(t)["status"] != "processing" {
		t.Fatalf("a read waiting while the server stops: %v %d %s", a.err, a.r.status, a.r.body)
	}
}
