package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"sigs.k8s.io/yaml"

	"pixshare/contracts/events"
	"pixshare/platform/apitest"
	"pixshare/platform/sidecar"
)

// ports are the ports of one app in the stack's (remapped) run file.
type ports struct {
	AppID        string `json:"appID"`
	AppPort      int    `json:"appPort"`
	DaprGRPCPort int    `json:"daprGRPCPort"`
}

func appPorts(t *testing.T, s *Stack, id string) ports {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Root, "dapr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rf struct {
		Apps []ports `json:"apps"`
	}
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	for _, a := range rf.Apps {
		if a.AppID == id {
			return a
		}
	}
	t.Fatalf("no app %s in the run file", id)
	return ports{}
}

func stackToken(t *testing.T, s *Stack, id, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Root, ".data", "tokens", id+".env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return v
		}
	}
	t.Fatalf("no %s for %s", key, id)
	return ""
}

// sidecarClient is the Dapr client an app's own process has: its sidecar's
// gRPC port and its DAPR_API_TOKEN. What it may publish is what a
// compromised app could.
func sidecarClient(t *testing.T, s *Stack, id string) dapr.Client {
	t.Helper()
	conn, err := sidecar.Dial(sidecar.Config{Host: "127.0.0.1", GRPCPort: appPorts(t, s, id).DaprGRPCPort,
		APIToken: stackToken(t, s, id, "DAPR_API_TOKEN"), MaxMessageBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return dapr.NewClientWithConnection(conn)
}

// forge publishes an event of typ on topic through client, claiming source
// (empty: the sidecar sets its own app id).
func forge(client dapr.Client, topic, id, typ, source string, payload any) error {
	data, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	md := map[string]string{"cloudevent.id": id, "cloudevent.type": typ}
	if source != "" {
		md["cloudevent.source"] = source
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return client.PublishEvent(ctx, "pubsub", topic, data,
		dapr.PublishEventWithContentType("application/json"), dapr.PublishEventWithMetadata(md))
}

// victim registers a user with one ready post and returns the client, the
// user id and the post id.
func victim(t *testing.T, s *Stack, name string) (*apitest.Client, string, string) {
	t.Helper()
	c := apitest.New(t, s.Gateway)
	id := c.Register(name)
	up := c.Upload(photo(t, "landscape.jpg"), "Still here", "authority")
	if up.Status != 202 {
		t.Fatalf("upload: %d %s", up.Status, up.Body)
	}
	postID := up.JSON(t)["id"].(string)
	apitest.Eventually(t, 60*time.Second, "the post to be ready", func() bool {
		return c.Expect(200, "GET", "/v1/posts/"+postID, nil).JSON(t)["status"] == "ready"
	})
	return c, id, postID
}

// untouched checks that the victim's account and post are as they were.
func untouched(t *testing.T, c *apitest.Client, userID, postID string) {
	t.Helper()
	if me := c.Expect(200, "GET", "/v1/users/me", nil).JSON(t); me["id"] != userID {
		t.Fatalf("me = %v", me)
	}
	if p := c.Expect(200, "GET", "/v1/posts/"+postID, nil).JSON(t); p["status"] != "ready" {
		t.Fatalf("post = %v", p)
	}
	if ids := searchIDs(t, c, "tag=authority"); !has(ids, postID) {
		t.Fatalf("the post is gone from search: %v", ids)
	}
}

// TestForgedEventsAreRefused runs the stack with production defaults and
// forges, as the thumbnailer (which parses hostile images) could, the two
// events that do the most harm: user.deleted (mass deletion) and an index
// removal at version 2^62 (a tombstone nothing could undo).
//
//   - Published through the thumbnailer's own sidecar, both are refused by
//     the sidecar: publishingScopes grant the thumbnailer dead-letters only,
//     and a forged cloudevent.source changes nothing.
//   - Sent straight to an app's gRPC port as a Dapr delivery, with or
//     without a token, they are refused: apps take deliveries only over
//     their own stream to their sidecar.
//   - With a misconfigured profile that lets the thumbnailer publish to
//     domain-events, the user.deleted gets through the sidecar but both
//     consumers (post, comment) dead-letter it: its source is not user.
//
// Every time the victim's account, post and search entry are unchanged.
func TestForgedEventsAreRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e skipped in -short mode")
	}

	t.Run("scoped", func(t *testing.T) {
		s := Start(t, Options{})
		c, userID, postID := victim(t, s, "victim")
		th := sidecarClient(t, s, "thumbnailer")

		for _, source := range []string{"", "user"} {
			err := forge(th, events.TopicDomainEvents, uuid.NewString(), events.TypeUserDeleted, source,
				events.UserDeleted{UserID: userID, DeletedAt: time.Now()})
			if err == nil || !strings.Contains(err.Error(), "not allowed") {
				t.Fatalf("the thumbnailer's sidecar published user.deleted (source %q): %v", source, err)
			}
		}
		removal := events.IndexRemove{PostID: postID, AuthorID: userID, Version: 1 << 62}
		if err := forge(th, events.TopicSearchIndex, uuid.NewString(), events.TypeIndexRemove, "post", removal); err == nil ||
			!strings.Contains(err.Error(), "not allowed") {
			t.Fatalf("the thumbnailer's sidecar published post.index.remove: %v", err)
		}
		// Its own topic (dead-letters) still works: the scopes are not a
		// blanket refusal.
		if err := forge(th, events.TopicDeadLetters, uuid.NewString(), "pixshare.dead-letter", "", map[string]string{"probe": "1"}); err != nil {
			t.Fatalf("the thumbnailer may publish dead letters: %v", err)
		}

		// Straight to the post and indexer ports, as any local process could.
		forged := map[string]*runtimev1pb.TopicEventRequest{
			"post": {Id: uuid.NewString(), Source: "user", Type: events.TypeUserDeleted, SpecVersion: "1.0",
				DataContentType: "application/json", Topic: events.TopicDomainEvents, PubsubName: "pubsub",
				Path: "/" + events.TypeUserDeleted, Data: mustJSON(t, events.UserDeleted{UserID: userID})},
			"indexer": {Id: uuid.NewString(), Source: "post", Type: events.TypeIndexRemove, SpecVersion: "1.0",
				DataContentType: "application/json", Topic: events.TopicSearchIndex, PubsubName: "pubsub",
				Path: "/" + events.TypeIndexRemove, Data: mustJSON(t, removal)},
		}
		for app, req := range forged {
			conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", appPorts(t, s, app).AppPort),
				grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// No token, a guessed one, and even the app's real token.
			for _, token := range []string{"", "guess", stackToken(t, s, app, "APP_API_TOKEN")} {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if token != "" {
					ctx = metadata.AppendToOutgoingContext(ctx, "dapr-api-token", token)
				}
				_, err := runtimev1pb.NewAppCallbackClient(conn).OnTopicEvent(ctx, req)
				cancel()
				if status.Code(err) != codes.PermissionDenied {
					t.Fatalf("a delivery sent straight to %s's port (token %q): %v, want PermissionDenied", app, token, err)
				}
			}
		}
		// Give any delivery that got through time to act, then look.
		time.Sleep(3 * time.Second)
		untouched(t, c, userID, postID)
	})

	t.Run("misconfigured profile: the consumers check the source", func(t *testing.T) {
		s := Start(t, Options{Replace: map[string]string{
			"thumbnailer=dead-letters": "thumbnailer=domain-events,dead-letters",
		}})
		c, userID, postID := victim(t, s, "victim")
		th := sidecarClient(t, s, "thumbnailer")
		eventID := uuid.NewString()
		if err := forge(th, events.TopicDomainEvents, eventID, events.TypeUserDeleted, "",
			events.UserDeleted{UserID: userID, DeletedAt: time.Now()}); err != nil {
			t.Fatalf("the misconfigured profile was meant to let this through: %v", err)
		}
		apitest.Eventually(t, 60*time.Second, "post and comment to dead-letter the forged user.deleted", func() bool {
			by := deadLetteredBy(s.Output(), eventID)
			return by["post"] && by["comment"]
		})
		untouched(t, c, userID, postID)
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deadLetteredBy reads the apps' JSON log lines in the stack's output and
// returns the services that dead-lettered event id.
func deadLetteredBy(output, id string) map[string]bool {
	by := map[string]bool{}
	for _, line := range strings.Split(output, "\n") {
		if !strings.Contains(line, id) || !strings.Contains(line, "event dead-lettered") {
			continue
		}
		var entry struct {
			Service string `json:"service"`
			Msg     string `json:"msg"`
			EventID string `json:"event_id"`
			Source  string `json:"source"`
		}
		if i := strings.Index(line, "{"); i >= 0 && json.Unmarshal([]byte(line[i:]), &entry) == nil &&
			entry.Msg == "event dead-lettered" && entry.EventID == id && entry.Source == "thumbnailer" {
			by[entry.Service] = true
		}
	}
	return by
}
