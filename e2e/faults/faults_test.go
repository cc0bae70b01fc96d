package faults

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"pixshare/platform/apitest"
	"pixshare/platform/daprtest"
)

// journey runs the writes of the user journey for one user: posts
// uploaded with idempotency keys, an edit, a follow, a comment. It returns
// the post ids.
func (s *stack) journey(c *apitest.Client, name string, images int, other string) []string {
	s.t.Helper()
	var ids []string
	for i := range images {
		ids = append(ids, s.upload(c, s.photo("small.png"), fmt.Sprintf("%s-%d", name, i), "fault,"+name))
	}
	retry(s.t, func() int {
		return c.Do("PATCH", "/v1/posts/"+ids[0], map[string]any{"caption": "edited by " + name}).Status
	})
	if other != "" {
		retry(s.t, func() int { return c.Do("PUT", "/v1/users/"+other+"/follow", nil).Status })
	}
	retry(s.t, func() int {
		return c.Do("POST", "/v1/posts/"+ids[0]+"/comments", map[string]string{"body": "hello from " + name}).Status
	})
	return ids
}

// retry repeats a write until it is not a 5xx (clients retry; every write
// here is idempotent).
func retry(t *testing.T, do func() int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		status := do()
		if status < 500 {
			if status >= 300 {
				t.Fatalf("write refused: %d", status)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("write kept failing with %d", status)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestThumbnailerKilled kills the thumbnailer (kill -9) with ~100 images
// queued, then its sidecar, restarting each: every post becomes ready.
func TestThumbnailerKilled(t *testing.T) { thumbnailerKilled(t, localProfile()) }

// TestPostKilledBetweenCommitAndPublish holds the post service's outbox
// relay, uploads (202: the rows are committed), kills the service with -9
// before anything is published, and restarts it: nothing is lost.
func TestPostKilledBetweenCommitAndPublish(t *testing.T) {
	postKilledBetweenCommitAndPublish(t, localProfile())
}

// TestBrokerRestart restarts the embedded JetStream broker while the
// journey's writes run.
func TestBrokerRestart(t *testing.T) { brokerRestart(t, localProfile()) }

// scenarios are the fault scenarios TestOnEveryBroker runs on each broker
// profile (the others test parts that do not depend on the broker).
var scenarios = []struct {
	name string
	run  func(*testing.T, profile)
}{
	{"ThumbnailerKilled", thumbnailerKilled},
	{"BrokerRestart", brokerRestart},
	{"SigtermDuringProcessing", sigtermDuringProcessing},
	{"LostMessageIsReconciled", lostMessageIsReconciled},
	{"PostKilledBetweenCommitAndPublish", postKilledBetweenCommitAndPublish},
}

func scenarioNames() []string {
	var out []string
	for _, sc := range scenarios {
		out = append(out, sc.name)
	}
	return out
}

// TestOnEveryBroker runs the broker-dependent scenarios, with the same
// checker, on each profile named in PIXSHARE_FAULTS_PROFILES (.ci/run sets
// redis,rabbitmq,nats,mqtt; the local profile's run is the top-level
// tests). Each profile's broker is a private instance the test starts,
// restarts and stops; its components are the profile's own pubsub.yaml and
// resiliency.yaml pointed at it. Profiles run in parallel (go test
// -parallel), scenarios of one profile one after the other.
func TestOnEveryBroker(t *testing.T) {
	names := os.Getenv(ProfilesEnv)
	if names == "" {
		t.Skipf("set %s (e.g. redis,rabbitmq,nats,mqtt) to run the fault scenarios on those brokers", ProfilesEnv)
	}
	if testing.Short() {
		t.Skip("fault scenarios skipped in -short mode")
	}
	for _, name := range strings.Split(names, ",") {
		name = strings.TrimSpace(name)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := newProfile(t, name)
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					if why, ok := p.known[sc.name]; ok {
						t.Skipf("known not to hold on %s: %s", name, why)
					}
					began := time.Now()
					sc.run(t, p)
					t.Logf("%s on %s: passed in %s", sc.name, name, time.Since(began).Round(time.Second))
				})
			}
		})
	}
}

// thumbnailerKilled kills the thumbnailer (kill -9) with p.images images
// queued, then its sidecar, restarting each: every post becomes ready.
func thumbnailerKilled(t *testing.T, p profile) {
	s := start(t, options{broker: p.open(t, "ThumbnailerKilled")})
	alice, bob := s.client(), s.client()
	alice.Register("alice")
	bobID := bob.Register("bob")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.journey(alice, "alice", p.images, bobID)
	}()
	thumb := s.apps["thumbnailer"]
	daprtest.WaitFor(t, 60*time.Second, "some thumbnails to be made", func() bool {
		return strings.Count(thumb.Logs(), "thumbnails made") >= 5
	})
	thumb.Kill()
	time.Sleep(time.Second) // let requests pile up while it is down
	thumb.Restart(t, nil)
	daprtest.WaitFor(t, 120*time.Second, "more thumbnails after the restart", func() bool {
		return strings.Count(thumb.Logs(), "thumbnails made") >= 20
	})
	thumb.Side.Kill()
	time.Sleep(time.Second)
	thumb.Side.Restart(t)
	wg.Wait()
	s.check(invariants{})
}

// postKilledBetweenCommitAndPublish holds the post service's outbox relay,
// uploads (202: the rows are committed), kills the service with -9 before
// anything is published, and restarts it: nothing is lost.
func postKilledBetweenCommitAndPublish(t *testing.T, p profile) {
	s := start(t, options{broker: p.open(t, "PostKilledBetweenCommitAndPublish"),
		env: map[string]map[string]string{"post": {"OUTBOX_PAUSED": "true"}}})
	alice := s.client()
	alice.Register("alice")
	var ids []string
	for i := range 10 {
		ids = append(ids, s.upload(alice, s.photo("small.png"), fmt.Sprintf("k%d", i), "held"))
	}
	post := s.apps["post"]
	post.Kill()
	post.Restart(t, map[string]string{"OUTBOX_PAUSED": "false"})
	s.check(invariants{outboxBound: 5 * time.Second})
	for _, id := range ids {
		alice.Expect(200, "GET", "/v1/posts/"+id, nil)
	}
}

// brokerRestart restarts the broker while the journey's writes run.
func brokerRestart(t *testing.T, p profile) {
	s := start(t, options{broker: p.open(t, "BrokerRestart")})
	alice, bob := s.client(), s.client()
	alice.Register("alice")
	bobID := bob.Register("bob")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.journey(alice, "alice", 30, bobID)
	}()
	time.Sleep(2 * time.Second)
	s.broker.restart(t)
	wg.Wait()
	s.check(invariants{})
}

// TestUserServiceDown stops the user service: a token no service has
// checked yet cannot be checked, and every authenticated call with it fails
// closed with 503 — never lets a request through — and works again once
// `user` is back. (A token a service already checked keeps working there:
// its answer is cached against the user's stamp, and only `user` can
// revoke it, so nothing can have; docs/architecture.md.)
func TestUserServiceDown(t *testing.T) {
	s := start(t, options{})
	alice, bob := s.client(), s.client()
	alice.Register("alice")
	bob.Register("bob") // signed in, but not yet seen by post or comment
	id := s.upload(alice, s.photo("small.png"), "before", "down")
	user := s.apps["user"]
	user.Stop()
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/feed", nil},
		{"PATCH", "/v1/posts/" + id, map[string]string{"caption": "x"}},
		{"DELETE", "/v1/posts/" + id, nil},
		{"POST", "/v1/posts/" + id + "/comments", map[string]string{"body": "x"}},
		{"GET", "/v1/users/me", nil},
	} {
		r := bob.Do(req.method, req.path, req.body)
		if r.Status != http.StatusServiceUnavailable {
			t.Errorf("%s %s with the user service down: %d, want 503: %s", req.method, req.path, r.Status, r.Body)
		}
		if r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: not a problem document", req.method, req.path)
		}
	}
	// Anonymous reads need no authentication and still work.
	if got := s.client().Expect(200, "GET", "/v1/posts/"+id, nil).JSON(t); got["version"] != float64(1) {
		t.Fatalf("a refused write changed the post: %v", got)
	}
	user.Restart(t, nil)
	apitest.Eventually(t, 30*time.Second, "authenticated calls to work again", func() bool {
		return bob.Do("GET", "/v1/feed", nil).Status == 200
	})
	s.check(invariants{})
}

// TestPoisonImageDoesNotDelayOthers uploads a corrupt image among good
// ones: it fails and goes to the dead-letter topic alone, and the others
// become ready.
func TestPoisonImageDoesNotDelayOthers(t *testing.T) {
	s := start(t, options{})
	alice := s.client()
	alice.Register("alice")
	bad := s.upload(alice, s.photo("corrupt.jpg"), "poison", "poison")
	for i := range 10 {
		s.upload(alice, s.photo("small.png"), fmt.Sprintf("good%d", i), "good")
	}
	s.check(invariants{failed: map[string]bool{bad: true}})
	if n := len(s.deadLetters()); n != 1 {
		t.Fatalf("%d dead letters, want exactly the poison image's", n)
	}
}

// TestLostMessageIsReconciled purges the thumbnail requests while the
// thumbnailer is not running, as if they were lost: the post service's
// reconciler re-sends them and every post becomes ready.
func TestLostMessageIsReconciled(t *testing.T) { lostMessageIsReconciled(t, localProfile()) }

// TestSigtermDuringProcessingLosesNothing stops the thumbnailer with
// SIGTERM while it works through a queue; after a restart every post is
// ready.
func TestSigtermDuringProcessingLosesNothing(t *testing.T) {
	sigtermDuringProcessing(t, localProfile())
}

// lostMessageIsReconciled loses the thumbnail requests while the
// thumbnailer is not running (purged from the broker, or dropped by a
// broker that keeps nothing for a subscriber it has never seen): the post
// service's reconciler re-sends them and every post becomes ready.
func lostMessageIsReconciled(t *testing.T, p profile) {
	s := start(t, options{broker: p.open(t, "LostMessageIsReconciled"), without: map[string]bool{"thumbnailer": true}})
	alice := s.client()
	alice.Register("alice")
	for i := range 5 {
		s.upload(alice, s.photo("small.png"), fmt.Sprintf("lost%d", i), "lost")
	}
	postDB := daprtest.OpenDB(t, s.apps["post"])
	daprtest.WaitFor(t, 30*time.Second, "the requests to be published", func() bool {
		var n int64
		err := postDB.Table("outbox_messages").Where("published_at IS NULL").Count(&n).Error
		return err == nil && n == 0
	})
	s.broker.lose(t, "thumbnails")
	s.startApp("thumbnailer", map[string]map[string]string{})
	s.check(invariants{})
}

// sigtermDuringProcessing stops the thumbnailer with SIGTERM while it works
// through a queue; after a restart every post is ready.
func sigtermDuringProcessing(t *testing.T, p profile) {
	s := start(t, options{broker: p.open(t, "SigtermDuringProcessing")})
	alice := s.client()
	alice.Register("alice")
	for i := range p.images * 2 / 5 {
		s.upload(alice, s.photo("landscape.jpg"), fmt.Sprintf("term%d", i), "term")
	}
	thumb := s.apps["thumbnailer"]
	daprtest.WaitFor(t, 60*time.Second, "processing to start", func() bool {
		return strings.Count(thumb.Logs(), "thumbnails made") >= 2
	})
	thumb.Signal(syscall.SIGTERM)
	thumb.Restart(t, nil)
	s.check(invariants{})
}
