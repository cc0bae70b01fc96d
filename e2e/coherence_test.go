package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"pixshare/platform/apitest"
)

// TestCoherenceAcrossReplicas runs two replicas each of user, post and
// comment, every one with its own sidecar, behind the gateway, with the
// defaults users get (caches and rate limits on). A write's effect must
// show on the very next request, on every replica: the reads below follow
// each write with no sleep, and they go to each replica's own port as
// well as through the gateway.
func TestCoherenceAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e skipped in -short mode")
	}
	s := Start(t, Options{Replicas: "user=2,post=2,comment=2",
		Env: map[string]string{"ARGON2_MEMORY_KIB": "8192", "ARGON2_ITERATIONS": "1"}})
	for _, name := range []string{"user", "user-2", "post", "post-2", "comment", "comment-2", "search"} {
		if s.Apps[name] == "" {
			t.Fatalf("the ready line names no %s: %v", name, s.Apps)
		}
	}
	gw := apitest.New(t, s.Gateway)
	alice, bob := gw.From("127.0.0.11"), gw.From("127.0.0.12")
	aliceID := alice.Register("alice")
	bobID := bob.Register("bob")
	tag := "coherent"
	post := alice.Upload(photo(t, "landscape.jpg"), "Golden hour", tag).JSON(t)["id"].(string)
	apitest.Eventually(t, 90*time.Second, "the post to be ready", func() bool {
		return alice.Do("GET", "/v1/posts/"+post, nil).JSON(t)["status"] == "ready"
	})
	bob.Expect(204, "PUT", "/v1/users/"+aliceID+"/follow", nil)

	// Each replica of a service, by name, as bob or alice.
	on := func(c *apitest.Client, app string) *apitest.Client { return c.At(s.Apps[app]) }
	postReplicas := []string{"post", "post-2"}
	commentReplicas := []string{"comment", "comment-2"}
	// Warm every cache on every replica first, so a stale copy would be
	// there to be served.
	warm := func() {
		for _, r := range postReplicas {
			on(bob, r).Expect(200, "GET", "/v1/posts/"+post, nil)
			on(bob, r).Expect(200, "GET", "/v1/feed", nil)
			on(bob, r).Expect(200, "GET", "/v1/posts/"+post+"/image?size=thumb", nil)
		}
		for _, r := range commentReplicas {
			on(bob, r).Expect(200, "GET", "/v1/posts/"+post+"/comments", nil)
		}
		bob.Expect(200, "GET", "/v1/search?tag="+tag, nil)
	}
	feedHas := func(c *apitest.Client) bool {
		return strings.Contains(string(c.Expect(200, "GET", "/v1/feed", nil).Body), post)
	}
	searchHas := func(c *apitest.Client) bool {
		return strings.Contains(string(c.Expect(200, "GET", "/v1/search?tag="+tag, nil).Body), post)
	}

	t.Run("block", func(t *testing.T) {
		warm()
		alice.Expect(204, "PUT", "/v1/users/"+bobID+"/block", nil)
		for _, r := range postReplicas {
			if st := on(bob, r).Do("GET", "/v1/posts/"+post, nil).Status; st != 404 {
				t.Errorf("%s: the blocked reader's next GET of the post: %d, want 404", r, st)
			}
			if st := on(bob, r).Do("GET", "/v1/posts/"+post+"/image?size=thumb", nil).Status; st != 404 {
				t.Errorf("%s: the blocked reader's next GET of the image: %d, want 404", r, st)
			}
			if feedHas(on(bob, r)) {
				t.Errorf("%s: the post is still in the blocked reader's feed", r)
			}
		}
		if searchHas(bob) {
			t.Error("the post is still a search hit for the blocked reader")
		}
		for _, r := range commentReplicas {
			if st := on(bob, r).Do("POST", "/v1/posts/"+post+"/comments", map[string]string{"body": "hi"}).Status; st != 404 {
				t.Errorf("%s: the blocked reader's comment: %d, want 404", r, st)
			}
			if st := on(bob, r).Do("GET", "/v1/posts/"+post+"/comments", nil).Status; st != 404 {
				t.Errorf("%s: the blocked reader's comment list: %d, want 404", r, st)
			}
		}
		alice.Expect(204, "DELETE", "/v1/users/"+bobID+"/block", nil)
		for _, r := range postReplicas {
			if st := on(bob, r).Do("GET", "/v1/posts/"+post, nil).Status; st != 200 {
				t.Errorf("%s: after the unblock the next GET is %d, want 200", r, st)
			}
		}
		for _, r := range commentReplicas {
			if st := on(bob, r).Do("GET", "/v1/posts/"+post+"/comments", nil).Status; st != 200 {
				t.Errorf("%s: after the unblock the next comment list is %d, want 200", r, st)
			}
		}
		if !searchHas(bob) {
			t.Error("after the unblock the post is not a search hit")
		}
	})

	t.Run("password change and logout", func(t *testing.T) {
		// Where the old token is tried: the gateway and every replica's own
		// port, on a route each serves.
		type probe struct{ app, path string }
		probes := []probe{{"", "/v1/users/me"}, {"user", "/v1/users/me"}, {"user-2", "/v1/users/me"},
			{"post", "/v1/feed"}, {"post-2", "/v1/feed"}, {"comment", "/v1/posts/" + post + "/comments"},
			{"comment-2", "/v1/posts/" + post + "/comments"}, {"search", "/v1/search?tag=" + tag}}
		client := func(c *apitest.Client, app string) *apitest.Client {
			if app == "" {
				return c
			}
			return on(c, app)
		}
		tryAll := func(token string, want int, why string) {
			for _, p := range probes {
				if st := client(bob.As(token), p.app).Do("GET", p.path, nil).Status; st != want {
					t.Errorf("%s %s %s: %d, want %d", p.app, p.path, why, st, want)
				}
			}
		}
		old := bob.Token
		tryAll(old, 200, "before the password change") // warms every cache
		bob.Expect(200, "PATCH", "/v1/users/me", map[string]string{"password": "a brand new password", "current_password": "correct horse battery"})
		tryAll(old, 401, "with the old token, right after the password change")

		fresh := loginAs(t, bob, "bob", "a brand new password")
		tryAll(fresh, 200, "with a new token")
		bob.As(fresh).Expect(204, "POST", "/v1/users/logout", nil)
		tryAll(fresh, 401, "right after logout")
		bob.Token = loginAs(t, bob, "bob", "a brand new password")
	})

	t.Run("edit", func(t *testing.T) {
		for _, r := range postReplicas {
			on(bob, r).Expect(200, "GET", "/v1/posts/"+post, nil)
		}
		alice.Expect(200, "PATCH", "/v1/posts/"+post, map[string]string{"caption": "Blue hour"})
		for _, r := range postReplicas {
			if got := on(bob, r).Expect(200, "GET", "/v1/posts/"+post, nil).JSON(t)["caption"]; got != "Blue hour" {
				t.Errorf("%s: the next read after the edit shows %q", r, got)
			}
		}
	})

	t.Run("delete while 20 readers read", func(t *testing.T) {
		var (
			mu       sync.Mutex
			deleted  time.Time // when the DELETE's answer came back
			stale    []string
			reads    int
			stop     = make(chan struct{})
			wg       sync.WaitGroup
			readersC = []*apitest.Client{on(bob, "post"), on(bob, "post-2"), bob}
		)
		for i := range 20 {
			c := readersC[i%len(readersC)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					started := time.Now()
					st := c.Status("/v1/posts/" + post)
					mu.Lock()
					reads++
					if !deleted.IsZero() && started.After(deleted) && st != 404 {
						stale = append(stale, fmt.Sprintf("%s answered %d", c.Base(), st))
					}
					mu.Unlock()
				}
			}()
		}
		time.Sleep(300 * time.Millisecond) // readers are reading
		alice.Expect(204, "DELETE", "/v1/posts/"+post, nil)
		mu.Lock()
		deleted = time.Now()
		mu.Unlock()
		time.Sleep(500 * time.Millisecond) // readers keep reading after it
		close(stop)
		wg.Wait()
		if len(stale) > 0 {
			t.Fatalf("%d of %d reads that started after the DELETE returned were not 404: %v", len(stale), reads, stale[:min(5, len(stale))])
		}
		for _, r := range commentReplicas {
			if st := on(alice, r).Do("POST", "/v1/posts/"+post+"/comments", map[string]string{"body": "late"}).Status; st != 404 {
				t.Errorf("%s: a comment on the deleted post: %d, want 404", r, st)
			}
		}
	})
}

// loginAs logs name in and returns the token.
func loginAs(t *testing.T, c *apitest.Client, name, password string) string {
	t.Helper()
	return c.As("").Expect(200, "POST", "/v1/users/login", map[string]string{"username": name, "password": password}).JSON(t)["access_token"].(string)
}
