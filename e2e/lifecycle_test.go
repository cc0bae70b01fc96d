package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"pixshare/platform/apitest"
)

// TestBlobLifecycle, on the local profile (images in .data/images): the
// blobs of a deleted post, and of every post of a deleted account, are
// gone from disk after the grace period while the soft-deleted rows stay;
// orphans (a post id never committed, older than the grace period) are
// swept; keys that name no post of ours are left alone; an upload over
// the account's quota gets a problem document and stores nothing. The
// grace period and the janitor's rounds are shortened (production: 10m,
// 1m, 1h); everything else is as `make run` has it.
func TestBlobLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e skipped in -short mode")
	}
	photo, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "photos", "landscape.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	s := Start(t, Options{Env: map[string]string{
		"ARGON2_MEMORY_KIB": "8192", "ARGON2_ITERATIONS": "1",
		"BLOB_DELETE_AFTER": "3s", "BLOB_JANITOR_INTERVAL": "500ms", "BLOB_SWEEP_INTERVAL": "1s",
		// Room for two of the photo, not three.
		"UPLOAD_QUOTA_BYTES": strconv.Itoa(len(photo) * 5 / 2),
	}})
	images := filepath.Join(s.Root, ".data", "images")
	files := func(id string) []string {
		var out []string
		for _, p := range []string{filepath.Join(images, "uploads", id), filepath.Join(images, "renditions", id)} {
			_ = filepath.Walk(p, func(path string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					out = append(out, path)
				}
				return nil
			})
		}
		return out
	}
	gw := apitest.New(t, s.Gateway)
	alice := gw.From("127.0.0.51")
	alice.Register("alice")
	ready := func(id string) {
		t.Helper()
		waitUntil(t, "post "+id+" to be ready", func() bool {
			return alice.Do("GET", "/v1/posts/"+id, nil).JSON(t)["status"] == "ready"
		})
	}
	a := alice.Upload(photo, "a", "").JSON(t)["id"].(string)
	b := alice.Upload(photo, "b", "").JSON(t)["id"].(string)
	ready(a)
	ready(b)
	if n := len(files(a)); n < 5 {
		t.Fatalf("post a has %d blobs on disk, want the original and its renditions", n)
	}

	// Over the quota: a problem document, and nothing stored.
	before := len(files("")) // every blob
	over := alice.Upload(photo, "c", "")
	if over.Status != 403 || over.JSON(t)["type"] == nil || over.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("an upload over the quota: %d %s", over.Status, over.Body)
	}
	if typ, _ := over.JSON(t)["type"].(string); filepath.Base(typ) != "quota-exceeded" {
		t.Fatalf("problem type %q, want …/quota-exceeded", typ)
	}
	if after := len(files("")); after != before {
		t.Fatalf("the refused upload stored something: %d blobs, %d before", after, before)
	}

	// A deleted post's blobs go after the grace period; its row stays.
	alice.Expect(204, "DELETE", "/v1/posts/"+a, nil)
	if len(files(a)) == 0 {
		t.Fatal("the blobs went before the grace period")
	}
	waitUntil(t, "the deleted post's blobs to be deleted", func() bool { return len(files(a)) == 0 })
	db, err := gorm.Open(sqlite.Open(filepath.Join(s.Root, ".data", "post.db")), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	db.Table("posts").Where("id = ? AND deleted_at IS NOT NULL", a).Count(&rows)
	if rows != 1 {
		t.Fatal("the deleted post's row is gone; it should stay soft-deleted")
	}
	// The quota counts live posts: there is room again.
	c := alice.Upload(photo, "c", "").JSON(t)["id"].(string)
	ready(c)

	// Orphans: an original whose post never committed (an id from an hour
	// ago), and a rendition of it; and a file that names no post.
	orphan := uuidV7At(t, time.Now().Add(-time.Hour))
	for _, p := range []string{filepath.Join(images, "uploads", orphan), filepath.Join(images, "renditions", orphan, "thumb.jpg"),
		filepath.Join(images, "uploads", "not-a-post")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the sweeper to delete the orphans", func() bool { return len(files(orphan)) == 0 })
	if _, err := os.Stat(filepath.Join(images, "uploads", "not-a-post")); err != nil {
		t.Fatalf("the sweeper deleted a key that names no post: %v", err)
	}
	// A fresh upload's blobs are never orphans.
	if len(files(c)) == 0 || len(files(b)) == 0 {
		t.Fatal("the sweeper deleted live posts' blobs")
	}

	// Deleting the account deletes every post's blobs.
	alice.Expect(204, "DELETE", "/v1/users/me", map[string]string{"current_password": "correct horse battery"})
	waitUntil(t, "the deleted account's blobs to be deleted", func() bool { return len(files(b))+len(files(c)) == 0 })
}

// uuidV7At is a version 7 UUID whose time is at.
func uuidV7At(t *testing.T, at time.Time) string {
	t.Helper()
	u := uuid.Must(uuid.NewV7())
	ms := uint64(at.UnixMilli())
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	return u.String()
}
