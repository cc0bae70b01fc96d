package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"pixshare/platform/apitest"
	"pixshare/platform/daprtest"
)

// TestAccountSecurity: a stolen token alone cannot take an account over,
// and an operator's suspension locks the account out on its very next
// request, everywhere. The stack runs with the defaults users get.
func TestAccountSecurity(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e skipped in -short mode")
	}
	s := Start(t, Options{Env: map[string]string{"ARGON2_MEMORY_KIB": "8192", "ARGON2_ITERATIONS": "1"}})
	gw := apitest.New(t, s.Gateway)
	victim := gw.From("127.0.0.21")
	victim.Register("victim")
	stolen := victim.Token

	// The thief has the token, not the password.
	thief := gw.From("127.0.0.22").As(stolen)
	thief.Expect(403, "PATCH", "/v1/users/me", map[string]string{"password": "the thief's new one"})
	thief.Expect(403, "PATCH", "/v1/users/me", map[string]string{"password": "the thief's new one", "current_password": "a guess at it"})
	thief.Expect(403, "PATCH", "/v1/users/me", map[string]string{"email": "thief@example.com"})
	thief.Expect(403, "DELETE", "/v1/users/me", map[string]string{"current_password": "a guess at it"})
	// The owner still logs in with the old password; the account is whole.
	if me := victim.Expect(200, "GET", "/v1/users/me", nil).JSON(t); me["email"] != "victim@example.com" {
		t.Fatalf("the account changed: %v", me)
	}
	victim.Expect(200, "POST", "/v1/users/login", map[string]string{"username": "victim", "password": "correct horse battery"})

	// Suspension by the operator: the next request is refused on every
	// service, and the account cannot log in; reinstated, it works again.
	victim.Expect(200, "GET", "/v1/feed", nil) // warm the post service's copy of the token
	victim.Expect(200, "GET", "/v1/users/me", nil)
	if out, err := s.Command(t, "user", "suspend", "victim"); err != nil || !strings.Contains(out, "suspended") {
		t.Fatalf("user suspend: %v\n%s", err, out)
	}
	for _, path := range []string{"/v1/feed", "/v1/users/me", "/v1/search?tag=x"} {
		if st := victim.Do("GET", path, nil).Status; st != 403 {
			t.Errorf("%s right after the suspension: %d, want 403", path, st)
		}
	}
	gw.From("127.0.0.23").Expect(401, "POST", "/v1/users/login", map[string]string{"username": "victim", "password": "correct horse battery"})
	if out, err := s.Command(t, "user", "unsuspend", "victim"); err != nil {
		t.Fatalf("user unsuspend: %v\n%s", err, out)
	}
	victim.Expect(200, "GET", "/v1/feed", nil)
}

// TestKeyRotation follows the documented rotation of the token key on the
// local profile, whose file secret store is read when the sidecar starts:
// edit .data/secrets.json, restart. Tokens issued before stay valid while
// their key is listed, nobody is logged out, and new tokens name the new
// key; dropping the old key (once its tokens have expired) ends them.
func TestKeyRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e skipped in -short mode")
	}
	s := Start(t, Options{Env: map[string]string{"ARGON2_MEMORY_KIB": "8192", "ARGON2_ITERATIONS": "1"}})
	secrets := filepath.Join(s.Root, ".data", "secrets.json")
	read := func() map[string]string {
		t.Helper()
		b, err := os.ReadFile(secrets)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	write := func(key string) {
		t.Helper()
		m := read()
		m["jwt-signing-key"] = key
		b, _ := json.Marshal(m)
		if err := os.WriteFile(secrets, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	kid := func(token string) string {
		t.Helper()
		header, _, _ := strings.Cut(token, ".")
		b, err := base64.RawURLEncoding.DecodeString(header)
		if err != nil {
			t.Fatal(err)
		}
		var h struct{ Kid string }
		if err := json.Unmarshal(b, &h); err != nil || h.Kid == "" {
			t.Fatalf("token header %s has no kid", b)
		}
		return h.Kid
	}
	oldKey := read()["jwt-signing-key"]
	newKey := base64.StdEncoding.EncodeToString([]byte("the operator's new key, 48 random bytes in life"))

	gw := apitest.New(t, s.Gateway)
	alice := gw.From("127.0.0.31")
	alice.Register("alice")
	before := alice.Token
	oldKid := kid(before)

	// Steps 1 and 2 at once (one replica): the new key signs, the old one
	// still verifies.
	write(newKey + " " + oldKey)
	s.Restart(t)
	gw = apitest.New(t, s.Gateway)
	gw.From("127.0.0.31").As(before).Expect(200, "GET", "/v1/users/me", nil)
	gw.From("127.0.0.31").As(before).Expect(200, "GET", "/v1/feed", nil)
	after, _ := gw.From("127.0.0.32").Expect(200, "POST", "/v1/users/login", map[string]string{"username": "alice", "password": "correct horse battery"}).JSON(t)["access_token"].(string)
	if kid(after) == oldKid {
		t.Fatalf("after the rotation, new tokens still name the old key %s", oldKid)
	}
	gw.From("127.0.0.32").As(after).Expect(200, "GET", "/v1/users/me", nil)

	// Step 3, once the old key's tokens have expired: drop it.
	write(newKey)
	s.Restart(t)
	gw = apitest.New(t, s.Gateway)
	gw.From("127.0.0.31").As(before).Expect(401, "GET", "/v1/users/me", nil)
	gw.From("127.0.0.32").As(after).Expect(200, "GET", "/v1/users/me", nil)
	s.AssertNoSecretsLogged(t, oldKey, newKey)
}

// TestInFlightUploadDuringDeletion: an upload whose token was checked
// before its account was deleted, and whose body arrives after the post
// service has handled the deletion, is refused and leaves nothing: no
// live post, no stored original. (The same holds for comments and likes,
// through the same per-author record; see platform/deletedauthors.)
func TestInFlightUploadDuringDeletion(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e skipped in -short mode")
	}
	s := Start(t, Options{Env: map[string]string{"ARGON2_MEMORY_KIB": "8192", "ARGON2_ITERATIONS": "1"}})
	gw := apitest.New(t, s.Gateway)
	alice := gw.From("127.0.0.41")
	alice.Register("alice")
	photo, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "photos", "landscape.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	first := alice.Upload(photo, "before", "").JSON(t)["id"].(string)
	originals := func() int {
		entries, _ := os.ReadDir(filepath.Join(s.Root, ".data", "images", "uploads"))
		return len(entries)
	}
	stored := originals()

	// A fresh token, so the post service asks user about it (and user logs
	// the check under the request's id) instead of answering from cache.
	token := alice.Expect(200, "POST", "/v1/users/login", map[string]string{"username": "alice", "password": "correct horse battery"}).JSON(t)["access_token"].(string)

	// The upload's headers and the first bytes of its body go now; the
	// rest waits on the pipe.
	body, feed := io.Pipe()
	form := multipart.NewWriter(feed)
	req, _ := http.NewRequest("POST", s.Gateway+"/v1/posts", body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", form.FormDataContentType())
	req.Header.Set("X-Request-Id", "in-flight-upload-0001")
	answer := make(chan *http.Response, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("the in-flight upload: %v", err)
			close(answer)
			return
		}
		answer <- res
	}()
	_ = form.WriteField("caption", "in flight")
	part, _ := form.CreateFormFile("image", "landscape.jpg")
	half := len(photo) / 2
	if _, err := part.Write(photo[:half]); err != nil {
		t.Fatal(err)
	}
	authenticated := regexp.MustCompile(`"request_id":"in-flight-upload-0001".*AuthService/Authenticate`)
	waitUntil(t, "the post service to check the upload's token", func() bool { return authenticated.MatchString(s.Output()) })

	// The account goes, and the post service handles it (its first post is
	// gone) while the upload is still arriving.
	alice.Expect(204, "DELETE", "/v1/users/me", map[string]string{"current_password": "correct horse battery"})
	waitUntil(t, "the post service to remove alice's posts", func() bool {
		return gw.From("127.0.0.42").Status("/v1/posts/"+first) == 404
	})
	if _, err := part.Write(photo[half:]); err != nil {
		t.Fatal(err)
	}
	form.Close()
	feed.Close()
	res, ok := <-answer
	if !ok {
		return
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("the upload that finished after the deletion: %d %s, want 401", res.StatusCode, b)
	}
	// Nothing of it is live: not in the database, not on disk.
	db, err := gorm.Open(sqlite.Open(filepath.Join(s.Root, ".data", "post.db")), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var live int64
	if err := db.Table("posts").Where("caption = ? AND deleted_at IS NULL", "in flight").Count(&live).Error; err != nil {
		t.Fatal(err)
	}
	if live != 0 {
		t.Fatal("the in-flight upload is a live post of a deleted account")
	}
	if n := originals(); n > stored {
		t.Fatalf("the refused upload left its original on disk (%d originals, %d before)", n, stored)
	}
}

// waitUntil polls ok for up to a minute, failing t with what it waited for.
func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("gave up waiting for %s", what)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := daprtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}
