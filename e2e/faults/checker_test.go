package faults

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"pixshare/contracts/media"
	"pixshare/platform/daprtest"
	"pixshare/platform/pubsub"
)

// invariants are what must hold once a scenario settles.
type invariants struct {
	// failed lists posts expected to fail (poison images); every other
	// live post must be ready.
	failed map[string]bool
	// outboxBound is the age beyond which no outbox row may be unsent.
	outboxBound time.Duration
}

// check waits (bounded) for the system to settle, then fails t for every
// invariant that does not hold.
func (s *stack) check(inv invariants) {
	s.t.Helper()
	if inv.outboxBound == 0 {
		inv.outboxBound = 30 * time.Second
	}
	var problems []string
	// Long enough for a delivery lost with a killed sidecar to come back
	// (the brokers' redelivery timeouts are 90 s in the profiles).
	settle := 120 * time.Second
	if _, local := s.broker.(*localBroker); !local {
		settle = 240 * time.Second
	}
	deadline := time.Now().Add(settle)
	for {
		problems = s.violations(inv)
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if len(problems) > 0 {
		s.t.Fatalf("invariants still violated after %s:\n%s", settle, strings.Join(problems, "\n"))
	}
}

type postRow struct {
	ID             string
	AuthorID       string
	Caption        string
	Tags           string
	Status         string
	ThumbnailReady bool
	IndexedVersion int64
	Version        int64
	IdempotencyKey string
}

type docRow struct {
	PostID  string
	Caption string
	Tags    string
	Version int64
}

// violations lists what does not hold right now.
func (s *stack) violations(inv invariants) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	postDB := daprtest.OpenDB(s.t, s.apps["post"])
	var posts []postRow
	if err := postDB.Table("posts").Where("deleted_at IS NULL").Find(&posts).Error; err != nil {
		return []string{"read posts: " + err.Error()}
	}
	live := map[string]postRow{}
	for _, p := range posts {
		live[p.ID] = p
		want := "ready"
		if inv.failed[p.ID] {
			want = "failed"
		}
		if p.Status != want {
			add("post %s is %s, want %s", p.ID, p.Status, want)
			continue
		}
		if want == "ready" {
			for _, size := range media.Sizes() {
				path := filepath.Join(s.env.Dir, "images", media.RenditionKey(p.ID, size))
				if info, err := os.Stat(path); err != nil || info.Size() == 0 {
					add("post %s lacks its %s image", p.ID, size)
				}
			}
		}
	}

	// No two posts from one retried upload.
	var dups []struct {
		AuthorID, IdempotencyKey string
		N                        int
	}
	postDB.Raw(`SELECT author_id, idempotency_key, COUNT(*) AS n FROM posts WHERE idempotency_key <> ''
		GROUP BY author_id, idempotency_key HAVING COUNT(*) > 1`).Scan(&dups)
	for _, d := range dups {
		add("upload key %s of %s made %d posts", d.IdempotencyKey, d.AuthorID, d.N)
	}

	// The read model equals the post database.
	searchDB := daprtest.OpenDB(s.t, s.apps["indexer"])
	var docs []docRow
	if err := searchDB.Table("search_docs").Where("tombstone = ?", false).Find(&docs).Error; err != nil {
		return append(out, "read the read model: "+err.Error())
	}
	indexed := map[string]bool{}
	for _, d := range docs {
		indexed[d.PostID] = true
		p, ok := live[d.PostID]
		switch {
		case !ok:
			add("the read model holds %s, which is not a live post", d.PostID)
		case d.Version != p.Version || d.Caption != p.Caption || d.Tags != p.Tags:
			add("the read model holds %s at v%d %q %q, the post is v%d %q %q", d.PostID, d.Version, d.Caption, d.Tags, p.Version, p.Caption, p.Tags)
		}
	}
	for id := range live {
		if !indexed[id] {
			add("live post %s is not in the read model", id)
		}
	}

	// Counters equal relationship rows.
	userDB := daprtest.OpenDB(s.t, s.apps["user"])
	var bad []string
	userDB.Raw(`SELECT u.id FROM users u WHERE u.deleted_at IS NULL AND (
		u.follower_count  <> (SELECT COUNT(*) FROM follows f WHERE f.followee_id = u.id AND f.deleted_at IS NULL) OR
		u.following_count <> (SELECT COUNT(*) FROM follows f WHERE f.follower_id = u.id AND f.deleted_at IS NULL))`).Scan(&bad)
	for _, id := range bad {
		add("user %s has counters that differ from its relationship rows", id)
	}

	// No outbox row older than the bound is unsent.
	cutoff := time.Now().Add(-inv.outboxBound)
	for _, id := range []string{"user", "post", "comment"} {
		var n int64
		daprtest.OpenDB(s.t, s.apps[id]).Table("outbox_messages").
			Where("published_at IS NULL AND created_at < ?", cutoff).Count(&n)
		if n > 0 {
			add("%s has %d outbox rows unsent for more than %s", id, n, inv.outboxBound)
		}
	}

	// Dead letters are only the expected poison.
	for _, dl := range s.deadLetters() {
		var data struct {
			PostID string `json:"post_id"`
		}
		_ = json.Unmarshal(dl.Data, &data)
		if !inv.failed[data.PostID] {
			add("unexpected dead letter from %s: %s %s (%s)", dl.App, dl.Type, dl.Data, dl.Reason)
		}
	}
	sort.Strings(out)
	return out
}

// deadLetters reads every message on the dead-letter subject of a
// JetStream broker. Elsewhere the topic may have no reader bound to it
// (RabbitMQ, MQTT drop what nobody subscribed to), so the apps' own record
// of each dead letter they published is read instead: the same messages,
// told by their only publishers.
func (s *stack) deadLetters() []pubsub.DeadLetter {
	s.t.Helper()
	if s.broker.jetStream() == "" {
		return s.loggedDeadLetters()
	}
	nc, err := nats.Connect(s.broker.jetStream())
	if err != nil {
		s.t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		s.t.Fatal(err)
	}
	sub, err := js.SubscribeSync(pubsub.TopicDeadLetters, nats.DeliverAll(), nats.OrderedConsumer())
	if err != nil {
		s.t.Fatal(err)
	}
	defer sub.Unsubscribe()
	var out []pubsub.DeadLetter
	for {
		msg, err := sub.NextMsg(300 * time.Millisecond)
		if err != nil {
			return out
		}
		// Messages are CloudEvents; the dead letter is their data.
		var ce struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(msg.Data, &ce); err != nil {
			continue
		}
		var dl pubsub.DeadLetter
		if err := json.Unmarshal(ce.Data, &dl); err == nil {
			out = append(out, dl)
		}
	}
}

// loggedDeadLetters reads the "event dead-lettered" lines of every app's
// log (platform/pubsub logs one per dead letter it publishes).
func (s *stack) loggedDeadLetters() []pubsub.DeadLetter {
	var out []pubsub.DeadLetter
	for id, app := range s.apps {
		for _, line := range strings.Split(app.Logs(), "\n") {
			if !strings.Contains(line, "event dead-lettered") {
				continue
			}
			var entry struct {
				Type  string `json:"event_type"`
				Error string `json:"error"`
			}
			if i := strings.Index(line, "{"); i >= 0 {
				_ = json.Unmarshal([]byte(line[i:]), &entry)
			}
			out = append(out, pubsub.DeadLetter{App: id, Type: entry.Type, Reason: entry.Error, Data: json.RawMessage(`{}`)})
		}
	}
	return out
}
