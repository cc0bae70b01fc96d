package e2e

import (
	"net/http"
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

	// A client waiting for its upload asks the server to answer when the
	// post moves on ("Prefer: wait"), through the gateway: every answer
	// that still says processing is one the server waited for.
	for deadline := time.Now().Add(60 * time.Second); ; {
		r := alice.Get("/v1/posts/"+id, http.Header{"Prefer": {"wait=20"}})
		if r.Status != 200 {
			t.Fatalf("a waiting read: %d %s", r.Status, r.Body)
		}
		if r.JSON(t)["status"] == "ready" {
			break
		}
		if got := r.Header.Get("Preference-Applied"); got != "wait=20" {
			t.Fatalf("a read of a processing post through the gateway answered without waiting (Preference-Applied %q)", got)
		}
		if time.Now().After(deadline) {
			t.Fatal("the first post was not ready within 60 s")
		}
	}
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

	clientComplete(t, s, alice, bob, carol, aliceID, bobID, id, id2)

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

// clientComplete walks what a client app needs beyond the basics: finding
// people, relationships, likes with exact counts, authors and avatars on
// every item, timelines, single comments and alt text.
func clientComplete(t *testing.T, s *Stack, alice, bob, carol *apitest.Client, aliceID, bobID, id, id2 string) {
	t.Helper()
	// Finding people.
	if got := bob.Expect(200, "GET", "/v1/users/lookup?username=ALICE", nil).JSON(t); got["id"] != aliceID {
		t.Fatalf("lookup ALICE = %v", got)
	}
	found := false
	for _, u := range bob.Expect(200, "GET", "/v1/users?q=al", nil).Items(t) {
		found = found || u["id"] == aliceID
	}
	if !found {
		t.Fatal("people search for al did not find alice")
	}

	// Relationships, both ways (bob follows alice already).
	rel := func(c *apitest.Client, id string) map[string]any {
		return c.Expect(200, "GET", "/v1/users/"+id, nil).JSON(t)["relationship"].(map[string]any)
	}
	if r := rel(bob, aliceID); r["following"] != true || r["followed_by"] != false || r["blocking"] != false {
		t.Fatalf("bob → alice: %v", r)
	}
	if r := rel(alice, bobID); r["following"] != false || r["followed_by"] != true {
		t.Fatalf("alice → bob: %v", r)
	}

	// Likes, with exact counts at once.
	likes := func(c *apitest.Client) (int, bool) {
		p := c.Expect(200, "GET", "/v1/posts/"+id, nil).JSON(t)
		return int(p["like_count"].(float64)), p["liked"].(bool)
	}
	bob.Expect(204, "PUT", "/v1/posts/"+id+"/like", nil)
	bob.Expect(204, "PUT", "/v1/posts/"+id+"/like", nil)
	carol.Expect(204, "PUT", "/v1/posts/"+id+"/like", nil)
	if n, liked := likes(bob); n != 2 || !liked {
		t.Fatalf("after two likers: %d, liked=%v", n, liked)
	}
	if n, liked := likes(alice); n != 2 || liked {
		t.Fatalf("as the author: %d, liked=%v", n, liked)
	}
	who := alice.Expect(200, "GET", "/v1/posts/"+id+"/likes", nil).Items(t)
	if len(who) != 2 || who[0]["username"] != "carol" || who[1]["username"] != "bob" {
		t.Fatalf("likers = %v", who)
	}
	bob.Expect(204, "DELETE", "/v1/posts/"+id+"/like", nil)
	if n, liked := likes(bob); n != 1 || liked {
		t.Fatalf("after bob's unlike: %d, liked=%v", n, liked)
	}

	// Avatars: made square by the thumbnailer, then on every item.
	alice.Multipart("PUT", "/v1/users/me/avatar", photo(t, "portrait-exif6.jpg"), nil)
	var avatar string
	apitest.Eventually(t, 60*time.Second, "alice's avatar to be made", func() bool {
		avatar, _ = alice.Expect(200, "GET", "/v1/users/me", nil).JSON(t)["avatar_url"].(string)
		return avatar != ""
	})
	img := bob.Expect(200, "GET", avatar+"&size=thumb", nil)
	if img.Header.Get("Content-Type") != "image/jpeg" || img.Header.Get("ETag") == "" {
		t.Fatalf("avatar: %v", img.Header)
	}
	// Authors on feed items, and a rename on the next read.
	alice.Expect(200, "PATCH", "/v1/users/me", map[string]string{"display_name": "Alice Liddell"})
	items := bob.Expect(200, "GET", "/v1/feed", nil).Items(t)
	if len(items) == 0 {
		t.Fatal("empty feed")
	}
	for _, it := range items {
		a := it["author"].(map[string]any)
		if a["username"] != "alice" || a["display_name"] != "Alice Liddell" || a["avatar_url"] != avatar {
			t.Fatalf("feed item author = %v (avatar %s)", a, avatar)
		}
	}

	// Timelines.
	if ids := itemIDs(t, carol.Expect(200, "GET", "/v1/timelines/public", nil)); !has(ids, id) || !has(ids, id2) {
		t.Fatalf("public timeline = %v", ids)
	}
	if ids := itemIDs(t, carol.Expect(200, "GET", "/v1/timelines/tag/sunset", nil)); !has(ids, id2) || has(ids, id) {
		t.Fatalf("sunset timeline = %v (the first post was retagged dusk)", ids)
	}

	// A single comment, with its author.
	comments := carol.Expect(200, "GET", "/v1/posts/"+id+"/comments", nil).Items(t)
	one := carol.Expect(200, "GET", "/v1/posts/"+id+"/comments/"+comments[0]["id"].(string), nil).JSON(t)
	if one["body"] != comments[0]["body"] || one["author"].(map[string]any)["username"] != "bob" {
		t.Fatalf("single comment = %v", one)
	}

	// Alt text: kept on the post and found by search.
	r := alice.Multipart("POST", "/v1/posts", photo(t, "small.png"), map[string]string{
		"caption": "Afternoon", "tags": "lake", "alt_text": "A red kayak drifting on a calm lake"})
	kayak := r.JSON(t)["id"].(string)
	apitest.Eventually(t, 60*time.Second, "the alt text to be searchable", func() bool {
		return has(searchIDs(t, carol, "q=kayak"), kayak)
	})
	if got := carol.Expect(200, "GET", "/v1/posts/"+kayak, nil).JSON(t)["alt_text"]; got != "A red kayak drifting on a calm lake" {
		t.Fatalf("alt_text = %v", got)
	}
	hits := carol.Expect(200, "GET", "/v1/search?q=kayak", nil).Items(t)
	if a := hits[0]["author"].(map[string]any); a["username"] != "alice" {
		t.Fatalf("search hit author = %v", a)
	}
	_ = s
}

func itemIDs(t *testing.T, r apitest.Response) []string {
	t.Helper()
	var ids []string
	for _, it := range r.Items(t) {
		ids = append(ids, it["id"].(string))
	}
	return ids
}
