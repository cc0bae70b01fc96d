// Package sidecartest checks the platform's Dapr adapters against a real
// daprd with in-memory components: publishing with CloudEvent id and type,
// streaming subscriptions routed by type, the
// owner check on the CloudEvent source, dead-lettering, the refusal of
// deliveries pushed to the app port, the outbox relay, the state-store cache,
// and gRPC proxying between two apps.
package sidecartest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"

	"pixshare/platform/apperror"
	"pixshare/platform/blob"
	"pixshare/platform/cache"
	"pixshare/platform/daprtest"
	"pixshare/platform/database/dbtest"
	"pixshare/platform/grpcserver"
	"pixshare/platform/outbox"
	"pixshare/platform/pubsub"
	"pixshare/platform/sidecar"
)

type recorder struct {
	mu  sync.Mutex
	got []pubsub.Event
}

func (r *recorder) handle(_ context.Context, ev pubsub.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, ev)
	return nil
}

func (r *recorder) events() []pubsub.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pubsub.Event(nil), r.got...)
}

type app struct {
	srv    *grpcserver.Server
	side   *daprtest.Sidecar
	client dapr.Client
	cfg    sidecar.Config
}

// startApp starts an app's gRPC server (with register run before serving)
// beside a fresh sidecar.
func startApp(t *testing.T, env *daprtest.Env, id string, register func(*grpcserver.Server, pubsub.Publisher)) *app {
	t.Helper()
	_, appToken := env.Tokens(id)
	srv, err := grpcserver.New(grpcserver.Config{Host: "127.0.0.1", APIToken: appToken, MaxMessageBytes: 64 << 20}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	side := env.Start(t, id, srv.Port())
	cfg := sidecar.Config{Host: "127.0.0.1", GRPCPort: side.GRPCPort, HTTPPort: side.HTTPPort, APIToken: side.DaprAPIToken,
		WaitTimeout: 30 * time.Second, MaxMessageBytes: 64 << 20}
	conn, err := sidecar.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	client := dapr.NewClientWithConnection(conn)
	if register != nil {
		register(srv, pubsub.NewDaprPublisher(client, "pubsub"))
	}
	srv.Start()
	t.Cleanup(func() { srv.Stop(context.Background()) })
	if err := sidecar.Wait(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	side.WaitApp(t)
	return &app{srv: srv, side: side, client: client, cfg: cfg}
}

// subscribe opens the app's subscriptions (as pubsub.Module does once the
// sidecar is up) and waits until their streams are open.
func subscribe(t *testing.T, a *app, id string, topics map[string]map[string]pubsub.Handler) *pubsub.Subscriber {
	t.Helper()
	sub := pubsub.NewSubscriber(a.client, "pubsub", id, pubsub.NewDaprPublisher(a.client, "pubsub"), zap.NewNop())
	for topic, routes := range topics {
		if err := sub.Subscribe(topic, routes); err != nil {
			t.Fatal(err)
		}
	}
	sub.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sub.Stop(ctx)
	})
	daprtest.WaitFor(t, 20*time.Second, "the subscription streams", func() bool { return sub.Ready() == nil })
	return sub
}

func TestPubSubOutboxAndDeadLetters(t *testing.T) {
	env := daprtest.NewEnv(t, daprtest.InMemoryPubSub, daprtest.SharedCache)
	pubsub.DeclareOwners("thing.created", "alpha")
	pubsub.DeclareOwners("thing.poison", "alpha")
	pubsub.DeclareOwners("thing.elsewhere", "omega")
	pubsub.DeclareOwners(pubsub.TypeDeadLetter, "alpha")
	created, dead, elsewhere := &recorder{}, &recorder{}, &recorder{}
	a := startApp(t, env, "alpha", nil)
	subscribe(t, a, "alpha", map[string]map[string]pubsub.Handler{
		"things": {
			"thing.created": created.handle,
			"thing.poison": func(context.Context, pubsub.Event) error {
				return pubsub.Poison(errors.New("cannot ever work"))
			},
			// Owned by another app: alpha's own thing.elsewhere is forged.
			"thing.elsewhere": elsewhere.handle,
		},
		pubsub.TopicDeadLetters: {pubsub.TypeDeadLetter: dead.handle},
	})

	db := dbtest.SQLite(t)
	if err := outbox.Migrate(db); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, typ := range []string{"thing.created", "thing.ignored", "thing.poison", "thing.created", "thing.elsewhere"} {
		id, err := outbox.Enqueue(db, "things", typ, map[string]string{"name": typ})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	relay := outbox.NewRelay(db, pubsub.NewDaprPublisher(a.client, "pubsub"), outbox.RelayConfig{}, zap.NewNop())
	n, err := relay.Flush(context.Background())
	if err != nil || n != 5 {
		t.Fatalf("flush: %d, %v", n, err)
	}
	st, err := outbox.Pending(context.Background(), db)
	if err != nil || st.Pending != 0 {
		t.Fatalf("pending after flush: %+v, %v", st, err)
	}

	daprtest.WaitFor(t, 10*time.Second, "two thing.created deliveries and two dead letters", func() bool {
		return len(created.events()) == 2 && len(dead.events()) == 2
	})
	got := map[string]bool{}
	for _, ev := range created.events() {
		if ev.Type != "thing.created" || ev.Source != "alpha" {
			t.Errorf("routed type %q from %q to the thing.created handler", ev.Type, ev.Source)
		}
		got[ev.ID] = true
	}
	if !got[ids[0]] || !got[ids[3]] {
		t.Errorf("CloudEvent ids %v are not the outbox row ids %v", got, ids)
	}
	if len(elsewhere.events()) != 0 {
		t.Errorf("a thing.elsewhere from alpha (owner omega) was handled: %+v", elsewhere.events())
	}
	letters := map[string]pubsub.DeadLetter{}
	for _, ev := range dead.events() {
		var dl pubsub.DeadLetter
		if err := json.Unmarshal(ev.Data, &dl); err != nil {
			t.Fatal(err)
		}
		letters[dl.Type] = dl
	}
	if dl := letters["thing.poison"]; dl.ID != ids[2] || dl.App != "alpha" || dl.Source != "alpha" || dl.Reason == "" || string(dl.Data) != `{"name":"thing.poison"}` {
		t.Errorf("dead letter = %+v", dl)
	}
	if dl := letters["thing.elsewhere"]; dl.ID != ids[4] || !strings.Contains(dl.Reason, "omega") || dl.Source != "alpha" {
		t.Errorf("the forged event's dead letter = %+v", dl)
	}
}

// TestSubscribeNeedsOwners: routing a type nobody owns fails at start-up.
func TestSubscribeNeedsOwners(t *testing.T) {
	sub := pubsub.NewSubscriber(nil, "pubsub", "alpha", nil, zap.NewNop())
	if err := sub.Subscribe("things", map[string]pubsub.Handler{"thing.unowned": func(context.Context, pubsub.Event) error { return nil }}); err == nil {
		t.Fatal("subscribed to a type without owners")
	}
}

// TestForgedDeliveryRefused: a delivery sent straight to an app's port,
// as any local process could, is refused whatever token it carries, and
// reaches no handler; the same event published through the sidecar is
// delivered over the app's stream.
func TestForgedDeliveryRefused(t *testing.T) {
	env := daprtest.NewEnv(t, daprtest.InMemoryPubSub)
	pubsub.DeclareOwners("thing.created", "delta")
	got := &recorder{}
	a := startApp(t, env, "delta", nil)
	subscribe(t, a, "delta", map[string]map[string]pubsub.Handler{"things": {"thing.created": got.handle}})

	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", a.srv.Port()), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, appToken := env.Tokens("delta")
	for _, token := range []string{"", "guess", appToken} {
		ctx := context.Background()
		if token != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "dapr-api-token", token)
		}
		_, err := runtimev1pb.NewAppCallbackClient(conn).OnTopicEvent(ctx, &runtimev1pb.TopicEventRequest{
			Id: "forged", Source: "delta", Type: "thing.created", SpecVersion: "1.0", DataContentType: "application/json",
			Data: []byte(`{}`), Topic: "things", PubsubName: "pubsub", Path: "/thing.created",
		})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("forged OnTopicEvent with token %q: %v, want PermissionDenied", token, err)
		}
	}
	if err := pubsub.NewDaprPublisher(a.client, "pubsub").Publish(context.Background(), "things",
		pubsub.Message{ID: "real", Type: "thing.created", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	daprtest.WaitFor(t, 10*time.Second, "the published event", func() bool { return len(got.events()) == 1 })
	if ev := got.events()[0]; ev.ID != "real" {
		t.Fatalf("handled %+v; the forged delivery must never reach a handler", ev)
	}
}

func TestCache(t *testing.T) {
	env := daprtest.NewEnv(t, daprtest.SharedCache)
	a := startApp(t, env, "beta", nil)
	ctx := context.Background()
	c := cache.NewDapr(a.client, "cache", "beta", 0, nil, zap.NewNop())
	type val struct{ N int }
	var v val
	if c.Get(ctx, "k", &v) {
		t.Fatal("hit on an empty cache")
	}
	c.Set(ctx, "k", val{7}, time.Minute)
	if !c.Get(ctx, "k", &v) || v.N != 7 {
		t.Fatalf("miss after set: %+v", v)
	}
	c.Delete(ctx, "k")
	if c.Get(ctx, "k", &v) {
		t.Fatal("hit after delete")
	}
	c.Set(ctx, "short", val{1}, time.Second)
	daprtest.WaitFor(t, 5*time.Second, "TTL expiry", func() bool { return !c.Get(ctx, "short", &v) })

	// A store that does not exist degrades to misses, never errors.
	broken := cache.NewDapr(a.client, "no-such-store", "beta", 0, nil, zap.NewNop())
	broken.Set(ctx, "k", val{1}, time.Minute)
	if broken.Get(ctx, "k", &v) {
		t.Fatal("a broken store must read as a miss")
	}
}

func TestProxiedCallAndErrorMapping(t *testing.T) {
	env := daprtest.NewEnv(t)
	startApp(t, env, "callee", nil)
	caller := startApp(t, env, "caller", nil)
	conn, err := sidecar.Dial(caller.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	health := grpc_health_v1.NewHealthClient(sidecar.NewAppConn(conn, "callee"))
	res, err := health.Check(ctx, &grpc_health_v1.HealthCheckRequest{})
	if err != nil || res.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
		t.Fatalf("proxied health check: %v, %v", res, err)
	}
	_, err = health.Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: "no.such.Service"})
	if !apperror.Is(err, apperror.NotFound) {
		t.Fatalf("a NotFound status must come back as a NotFound kind, got %v", err)
	}
}

func TestBlobStore(t *testing.T) {
	env := daprtest.NewEnv(t, daprtest.LocalImages)
	a := startApp(t, env, "gamma", nil)
	ctx := context.Background()
	store := blob.NewDapr(a.client, "images")

	binary := make([]byte, 3<<20)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	cases := map[string][]byte{
		"originals/p1":        binary,
		"renditions/p1/a.jpg": []byte("QUJD"), // valid base64 text: must not be decoded
		"renditions/p1/q.jpg": []byte(`"quoted"`),
		"renditions/p1/empty": {},
	}
	for key, data := range cases {
		if err := store.Put(ctx, key, data); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
		got, err := store.Get(ctx, key)
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: round trip changed the bytes (%d -> %d bytes)", key, len(data), len(got))
		}
	}
	if _, err := store.Get(ctx, "originals/missing"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("missing blob: want ErrNotFound, got %v", err)
	}
	if err := store.Delete(ctx, "originals/p1"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(ctx, "originals/p1"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("deleted blob: want ErrNotFound, got %v", err)
	}
	if err := store.Delete(ctx, "originals/p1"); err != nil {
		t.Fatalf("deleting a missing blob: %v", err)
	}
	if err := store.Put(ctx, "../escape", []byte("x")); err == nil {
		if _, statErr := os.Stat(filepath.Join(env.Dir, "escape")); statErr == nil {
			t.Fatal("a key with ../ escaped the storage root")
		}
	}
}

// TestStamps runs the stamps against a real daprd, on the local profile's
// SQLite store and, when its address is given, on Redis (whose store
// refuses blind writes to a key first written with first-write
// concurrency).
func TestStamps(t *testing.T) {
	stores := map[string]string{"sqlite": daprtest.SharedCache}
	if addr := os.Getenv("PIXSHARE_TEST_REDIS_ADDR"); addr != "" {
		stores["redis"] = fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: cache
spec:
  type: state.redis
  version: v1
  metadata:
    - name: redisHost
      value: %s
    - name: keyPrefix
      value: none
`, addr)
	} else {
		t.Log("Redis part skipped: set PIXSHARE_TEST_REDIS_ADDR")
	}
	for name, component := range stores {
		t.Run(name, func(t *testing.T) {
			env := daprtest.NewEnv(t, component)
			a := startApp(t, env, "gamma", nil)
			ctx := context.Background()
			st := cache.NewStamps(a.client, "cache", cache.StampsConfig{Timeout: 2 * time.Second}, zap.NewNop())
			subject := "user:" + uuid.NewString()
			first := st.Read(ctx, []string{subject})[subject]
			if !first.Usable() || st.Read(ctx, []string{subject})[subject] != first {
				t.Fatalf("a new subject's stamp must be created once and kept: %q", first)
			}
			var during cache.Stamp
			err := st.Change(ctx, []string{subject}, func() error {
				during = st.Read(ctx, []string{subject})[subject]
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if during.Usable() {
				t.Fatalf("during the change the stamp was %q: it must be pending", during)
			}
			after := st.Read(ctx, []string{subject})[subject]
			if !after.Usable() || after == first {
				t.Fatalf("after the change the stamp is %q (before %q): want a new clean one", after, first)
			}
			// Concurrent changes of one subject: every one ends with a
			// clean stamp different from the one before it.
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					if err := st.Change(ctx, []string{subject}, func() error { return nil }); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			end := st.Read(ctx, []string{subject})[subject]
			if !end.Usable() || end == after {
				t.Fatalf("after concurrent changes: %q (before %q)", end, after)
			}
			if e := st.Epoch(); e != 0 {
				t.Fatalf("the store never failed, yet the epoch moved to %d", e)
			}
		})
	}
}

// TestStampReadingWindow: a process uses a reading of a stamp for the
// window after the read began, without asking the store, and a change
// waits out that window before it returns, so no request that starts
// after the change returned is given a reading from before it.
func TestStampReadingWindow(t *testing.T) {
	env := daprtest.NewEnv(t, daprtest.SharedCache)
	a := startApp(t, env, "delta", nil)
	ctx := context.Background()
	const window = 3 * time.Second
	reader := cache.NewStamps(a.client, "cache", cache.StampsConfig{Timeout: 2 * time.Second, Window: window}, zap.NewNop())
	// A writer that does not wait: it shows what the wait protects from.
	hasty := cache.NewStamps(a.client, "cache", cache.StampsConfig{Timeout: 2 * time.Second}, zap.NewNop())
	writer := cache.NewStamps(a.client, "cache", cache.StampsConfig{Timeout: 2 * time.Second, Window: window}, zap.NewNop())
	subject := "user:" + uuid.NewString()

	first := reader.Read(ctx, []string{subject})[subject]
	if err := hasty.Change(ctx, []string{subject}, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := reader.Read(ctx, []string{subject})[subject]; got != first {
		t.Fatalf("within its window the reading must be used as it is (no store read): got %q, read %q", got, first)
	}
	if err := writer.Change(ctx, []string{subject}, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	after := reader.Read(ctx, []string{subject})[subject]
	if !after.Usable() || after == first {
		t.Fatalf("right after a change returned the reader saw %q (before: %q): a change must outwait every reading", after, first)
	}
}

// TestStampTouch: a touch renews a stamp without a pending mark or a
// wait. The touching process sees the new stamp at once, even over a
// reading of its own from just before; another process, within the
// window of a reading it holds, may still use that reading (the bounded
// staleness of counters), and sees the new stamp once the window is over.
// A subject in use rides along with another subject's read before its own
// reading expires.
func TestStampTouch(t *testing.T) {
	env := daprtest.NewEnv(t, daprtest.SharedCache)
	a := startApp(t, env, "delta", nil)
	ctx := context.Background()
	const window = 2 * time.Second
	cfg := cache.StampsConfig{Timeout: 2 * time.Second, Window: window}
	toucher := cache.NewStamps(a.client, "cache", cfg, zap.NewNop())
	other := cache.NewStamps(a.client, "cache", cfg, zap.NewNop())
	subject := "post:" + uuid.NewString()

	before := toucher.Read(ctx, []string{subject})[subject]
	if got := other.Read(ctx, []string{subject})[subject]; got != before || !before.Usable() {
		t.Fatalf("two processes read %q and %q", before, got)
	}
	toucher.Touch(ctx, []string{subject})
	mine := toucher.Read(ctx, []string{subject})[subject]
	if !mine.Usable() || mine == before {
		t.Fatalf("the touching process read %q right after its touch (before: %q)", mine, before)
	}
	if got := other.Read(ctx, []string{subject})[subject]; got != before {
		t.Fatalf("within its window another process uses its reading: got %q, want %q", got, before)
	}
	// Past half the window the subject is due: the read of another
	// subject brings it along, and the reading is renewed.
	time.Sleep(window/2 + 100*time.Millisecond)
	if got := other.Read(ctx, []string{"post:" + uuid.NewString()}); len(got) != 1 {
		t.Fatalf("read of one subject returned %v", got)
	}
	if got := other.Read(ctx, []string{subject})[subject]; got != mine {
		t.Fatalf("a subject in use, read along with another, is %q; the store has %q", got, mine)
	}
}

// TestBlobOutageIsNotNotFound: a binding that is not there is an outage
// (Unavailable), never an absent blob.
func TestBlobOutageIsNotNotFound(t *testing.T) {
	env := daprtest.NewEnv(t, daprtest.LocalImages)
	a := startApp(t, env, "delta", nil)
	store := blob.NewDapr(a.client, "no-such-binding")
	_, err := store.Get(context.Background(), "originals/x")
	if errors.Is(err, blob.ErrNotFound) || !apperror.Is(err, apperror.Unavailable) {
		t.Fatalf("a missing binding: want Unavailable, got %v", err)
	}
}
