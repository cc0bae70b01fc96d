package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"pixshare/platform/apitest"

	"pixshare/platform/daprtest"
)

func photo(t *testing.T, name string) []byte {
	t.Helper()
	root, err := daprtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "testdata", "photos", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func searchIDs(t *testing.T, c *apitest.Client, query string) []string {
	t.Helper()
	var ids []string
	for _, it := range c.Expect(200, "GET", "/v1/search?"+query, nil).Items(t) {
		ids = append(ids, it["id"].(string))
	}
	return ids
}

func has(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// journey walks the user journey through the gateway: upload, wait until
// the posts are ready, fetch every size, find them by tag and caption,
// edit (new tag found, old tag gone), comment, follow and read the feed,
// block (hidden both ways), delete a post (gone, comments too), delete the
// account (all its posts gone).
func journey(t *testing.T, s *Stack) {
	alice, bob, carol := apitest.New(t, s.Gateway), apitest.New(t, s.Gateway), apitest.New(t, s.Gateway)
	defer func() {
		if !t.Failed() {
			s.AssertNoSecretsLogged(t, alice.Token, bob.Token, carol.Token, "correct horse battery")
		}
	}()
	aliceID := alice.Register("alice")
	bobID := bob.Register("bob")
	carol.Register("carol")

	post := alice.Upload(photo(t, "landscape.jpg"), "Golden sunset over the bay", "#Sunset, bay")
	if post.Status != 202 {
		t.Fatalf("upload: %d %s", post.Status, post.Body)
	}
	id := post.JSON(t)["id"].(string)
	second := alice.Upload(photo(t, "portrait-exif6.jpg"), "Another evening", "sunset")
	id2 := second.JSON(t)["id"].(string)

	apitest.Eventually(t, 60*time.Second, "both posts ready", func() bool {
		return alice.Expect(200, "GET", "/v1/posts/"+id, nil).JSON(t)["status"] == "ready" &&
			alice.Expect(200, "GET", "/v1/posts/"+id2, nil).JSON(t)["status"] == "ready"
	})
	for _, size := range []string{"thumb", "small", "medium", "large", "original"} {
		r := bob.Expect(200, "GET", "/v1/posts/"+id+"/image?size="+size, nil)
		if r.Header.Get("Content-Type") != "image/jpeg" || len(r.Body) == 0 {
			t.Fatalf("size %s: %s, %d bytes", size, r.Header.Get("Content-Type"), len(r.Body))
		}
	}

	if ids := searchIDs(t, bob, "tag=sunset&tag=bay"); len(ids) != 1 || ids[0] != id {
		t.Fatalf("search sunset+bay = %v", ids)
	}
	if ids := searchIDs(t, bob, "tag=sunset"); len(ids) != 2 || ids[0] != id2 {
		t.Fatalf("search sunset = %v, want newest first", ids)
	}
	if ids := searchIDs(t, bob, "q=golden+bay"); !has(ids, id) || has(ids, id2) {
		t.Fatalf("caption search = %v", ids)
	}
	ac := bob.Expect(200, "GET", "/v1/search/autocomplete?prefix=su", nil).Items(t)
	if len(ac) == 0 || ac[0]["tag"] != "sunset" || ac[0]["count"] != float64(2) {
		t.Fatalf("autocomplete = %v", ac)
	}
	bob.Expect(400, "GET", "/v1/search", nil)
	bob.Expect(400, "GET", "/v1/search?tag=sunset&offset=-1", nil)

	// Edit: the new tag is found, the old one is gone.
	alice.Expect(200, "PATCH", "/v1/posts/"+id, map[string]any{"tags": []string{"dusk"}})
	apitest.Eventually(t, 30*time.Second, "the edit to reach the index", func() bool {
		return has(searchIDs(t, bob, "tag=dusk"), id) && !has(searchIDs(t, bob, "tag=bay"), id)
	})
	apitest.Eventually(t, 30*time.Second, "the edited post to be ready again", func() bool {
		p := alice.Expect(200, "GET", "/v1/posts/"+id, nil).JSON(t)
		return p["status"] == "ready" && p["version"] == float64(2)
	})

	// Comments, and the count the post keeps from comment events.
	c := bob.Expect(201, "POST", "/v1/posts/"+id+"/comments", map[string]string{"body": "Lovely light"}).JSON(t)
	carol.Expect(201, "POST", "/v1/posts/"+id+"/comments", map[string]string{"body": "Where is this?"})
	bob.Expect(200, "PATCH", "/v1/posts/"+id+"/comments/"+c["id"].(string), map[string]string{"body": "Lovely light!"})
	carol.Expect(403, "DELETE", "/v1/posts/"+id+"/comments/"+c["id"].(string), nil)
	if items := carol.Expect(200, "GET", "/v1/posts/"+id+"/comments", nil).Items(t); len(items) != 2 || items[0]["body"] != "Lovely light!" {
		t.Fatalf("comments = %v", items)
	}
	apitest.Eventually(t, 30*time.Second, "comment_count 2", func() bool {
		return alice.Expect(200, "GET", "/v1/posts/"+id, nil).JSON(t)["comment_count"] == float64(2)
	})

	// Follow: bob's feed shows alice's posts.
	bob.Expect(204, "PUT", "/v1/users/"+aliceID+"/follow", nil)
	apitest.Eventually(t, 30*time.Second, "alice's posts in bob's feed", func() bool {
		items := bob.Expect(200, "GET", "/v1/feed", nil).Items(t)
		return len(items) == 2 && items[0]["id"] == id2
	})

	// Block: hidden both ways, on every read path.
	alice.Expect(204, "PUT", "/v1/users/"+bobID+"/block", nil)
	apitest.Eventually(t, 30*time.Second, "the block to hide alice's posts from bob", func() bool {
		return bob.Do("GET", "/v1/posts/"+id, nil).Status == 404 && !has(searchIDs(t, bob, "tag=sunset"), id2)
	})
	bob.Expect(404, "GET", "/v1/posts/"+id+"/image?size=thumb", nil)
	if items := bob.Expect(200, "GET", "/v1/feed", nil).Items(t); len(items) != 0 {
		t.Fatalf("feed after block: %v", items)
	}
	if has(searchIDs(t, carol, "tag=sunset"), id2) == false {
		t.Fatal("a third user lost alice's post")
	}
	alice.Expect(204, "DELETE", "/v1/users/"+bobID+"/block", nil)

	// Delete: gone everywhere, its comments with it.
	alice.Expect(204, "DELETE", "/v1/posts/"+id, nil)
	alice.Expect(404, "GET", "/v1/posts/"+id, nil)
	apitest.Eventually(t, 30*time.Second, "the deleted post's comments to go", func() bool {
		return bob.Do("GET", "/v1/posts/"+id+"/comments", nil).Status == 404
	})
	apitest.Eventually(t, 30*time.Second, "the deletion to reach the index", func() bool {
		return !has(searchIDs(t, carol, "tag=dusk"), id)
	})

	// Account deletion: every post of the user disappears.
	alice.Expect(204, "DELETE", "/v1/users/me", map[string]string{"current_password": "correct horse battery"})
	apitest.Eventually(t, 30*time.Second, "the deleted user's posts to disappear", func() bool {
		return carol.Do("GET", "/v1/posts/"+id2, nil).Status == 404 && len(searchIDs(t, carol, "tag=sunset")) == 0
	})
}
