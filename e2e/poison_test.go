package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"pixshare/platform/apitest"
	"pixshare/platform/pubsub"
)

// crashMarker marks the picture that kills the thumbnailer.
const crashMarker = "pixshare-e2e-kill-the-thumbnailer"

// TestPoisonThatKillsTheThumbnailerEnds: a picture that really kills the
// thumbnailer process (SIGKILL, as the OOM killer does) is given up after
// THUMBNAIL_MAX_ATTEMPTS attempts: its post becomes failed with a reason,
// the message goes to dead-letters, and the thumbnailer keeps working.
//
// The crash comes from the documented test-only fault hook
// THUMBNAIL_TEST_CRASH_MARKER (workers/internal/adapters/crash.go), not
// from a real out-of-memory kill: a picture holding the marker makes the
// thumbnailer SIGKILL itself when rendering starts, after the attempt was
// recorded and the picture admitted, where a decode would blow the memory
// limit. The launcher stops the whole stack when an app dies, so each
// crash is followed by a restart, as an operator (or Kubernetes) would.
// The local profile's ackWait is shortened from 90s to 10s so that the
// broker hands the message back soon after each restart; everything else
// is as `make run` has it.
func TestPoisonThatKillsTheThumbnailerEnds(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e skipped in -short mode")
	}
	photo, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "photos", "landscape.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	// The marker in a JPEG comment segment, right after SOI: a valid
	// picture that the post service accepts.
	com := append([]byte{0xFF, 0xFE, 0, byte(2 + len(crashMarker))}, crashMarker...)
	marked := append(append(append([]byte{}, photo[:2]...), com...), photo[2:]...)

	s := Start(t, Options{
		Env: map[string]string{
			"ARGON2_MEMORY_KIB": "8192", "ARGON2_ITERATIONS": "1",
			"THUMBNAIL_TEST_CRASH_MARKER": crashMarker,
			"THUMBNAIL_MAX_ATTEMPTS":      "2",
		},
		Replace: map[string]string{"value: 90s": "value: 10s"},
	})
	natsURL := s.out.find(regexp.MustCompile(`^ready: .*\bnats=(\S+)`))
	if natsURL == nil {
		t.Fatal("the ready line names no broker")
	}
	gw := apitest.New(t, s.Gateway)
	alice := gw.From("127.0.0.61")
	alice.Register("alice")
	id := alice.Upload(marked, "poison", "").JSON(t)["id"].(string)

	// Two attempts kill the thumbnailer, and with it the stack.
	s.waitForCrash(t)
	s.relaunchUntilCrash(t)
	// The third delivery is given up.
	s.launch(t)
	alice = apitest.New(t, s.Gateway).From("127.0.0.61").As(alice.Token)
	waitUntil(t, "the poison post to be failed", func() bool {
		return alice.Do("GET", "/v1/posts/"+id, nil).JSON(t)["status"] == "failed"
	})

	var reason string
	db := openSQLite(t, filepath.Join(s.Root, ".data", "post.db"))
	if err := db.Raw("SELECT failed_reason FROM posts WHERE id = ?", id).Scan(&reason).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reason, "crashed the thumbnailer 2 times") {
		t.Fatalf("failed reason %q", reason)
	}
	var left int64
	if err := openSQLite(t, filepath.Join(s.Root, ".data", "thumbnailer.db")).Raw("SELECT COUNT(*) FROM work_attempts").Scan(&left).Error; err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d attempt records left after the poison ended", left)
	}
	found := false
	for _, dl := range readDeadLetters(t, natsURL[1]) {
		if dl.App == "thumbnailer" && strings.Contains(string(dl.Data), id) {
			found = true
		}
	}
	if !found {
		t.Fatal("the poison message is not on the dead-letter topic")
	}

	// The thumbnailer still works.
	ok := alice.Upload(photo, "fine", "").JSON(t)["id"].(string)
	waitUntil(t, "a normal post to be ready", func() bool {
		return alice.Do("GET", "/v1/posts/"+ok, nil).JSON(t)["status"] == "ready"
	})
}

// waitForCrash waits for the launcher to exit because the thumbnailer was
// killed.
func (s *Stack) waitForCrash(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(4 * time.Minute):
		t.Fatalf("the thumbnailer did not crash:\n%s", s.out.tail(100))
	}
	if s.out.find(regexp.MustCompile(`thumbnailer exited \(signal: killed\)`)) == nil {
		t.Fatalf("the stack stopped, but not because the thumbnailer was killed:\n%s", s.out.tail(100))
	}
}

// relaunchUntilCrash starts the launcher again, in the same directory, and
// waits for the redelivered message to kill the thumbnailer; that may come
// before the stack is ready, so readiness is not awaited.
func (s *Stack) relaunchUntilCrash(t *testing.T) {
	t.Helper()
	s.run(t)
	s.waitForCrash(t)
}

func openSQLite(t *testing.T, path string) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(sqlite.Open("file:"+path+"?mode=ro&_busy_timeout=5000"), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	return db
}

// readDeadLetters reads every message on the dead-letter subject of the
// embedded broker.
func readDeadLetters(t *testing.T, url string) []pubsub.DeadLetter {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	sub, err := js.SubscribeSync(pubsub.TopicDeadLetters, nats.DeliverAll(), nats.OrderedConsumer())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	var out []pubsub.DeadLetter
	for {
		msg, err := sub.NextMsg(2 * time.Second)
		if err != nil {
			return out
		}
		var ce struct {
			Data json.RawMessage `json:"data"`
		}
		var dl pubsub.DeadLetter
		if json.Unmarshal(msg.Data, &ce) == nil && json.Unmarshal(ce.Data, &dl) == nil {
			out = append(out, dl)
		}
	}
}
