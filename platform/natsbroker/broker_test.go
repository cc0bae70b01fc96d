package natsbroker

import (
	"context"
	"net"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type errLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *errLog) errorf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, format)
}

var pixshare = Stream{
	Name:     "pixshare",
	Subjects: []string{"thumbnails", "search-index", "domain-events", "dead-letters"},
	MaxAge:   72 * time.Hour,
	MaxBytes: 1 << 30,
}

func TestBrokerStreamPublishBeforeConsumer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store := t.TempDir()
	port := freePort(t)
	var log errLog
	b, err := Start(ctx, port, store, log.errorf)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { b.Shutdown() }()
	if want := "nats://127.0.0.1:" + itoa(port); b.URL() != want {
		t.Errorf("URL = %s, want %s", b.URL(), want)
	}

	// Twice: the second run must be a no-op, not an error.
	for range 2 {
		if err := EnsureStream(ctx, b.URL(), pixshare); err != nil {
			t.Fatalf("EnsureStream: %v", err)
		}
	}

	nc, err := nats.Connect(b.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, "pixshare")
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	if cfg.Retention != jetstream.LimitsPolicy || cfg.Storage != jetstream.FileStorage ||
		cfg.MaxAge != 72*time.Hour || cfg.MaxBytes != 1<<30 || !reflect.DeepEqual(cfg.Subjects, pixshare.Subjects) {
		t.Errorf("stream config = %+v", cfg)
	}

	// Published before any consumer exists: limits retention must keep it.
	if _, err := js.Publish(ctx, "thumbnails", []byte(`{"post":"1"}`)); err != nil {
		t.Fatalf("publish: %v", err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "pixshare", jetstream.ConsumerConfig{
		Durable: "thumbnailer", FilterSubject: "thumbnails",
		AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for msg := range batch.Messages() {
		got = append(got, string(msg.Data()))
		if err := msg.Ack(); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(got, []string{`{"post":"1"}`}) {
		t.Errorf("consumed %q", got)
	}

	// Changing a limit updates the stream in place.
	changed := pixshare
	changed.MaxAge = time.Hour
	if err := EnsureStream(ctx, b.URL(), changed); err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil || info.Config.MaxAge != time.Hour {
		t.Errorf("update not applied: %v %v", info, err)
	}
	nc.Close()

	// File storage: the stream and its message survive a restart.
	b.Shutdown()
	b, err = Start(ctx, port, store, log.errorf)
	if err != nil {
		t.Fatal(err)
	}
	nc2, err := nats.Connect(b.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	js2, _ := jetstream.New(nc2)
	st2, err := js2.Stream(ctx, "pixshare")
	if err != nil {
		t.Fatalf("stream lost on restart: %v", err)
	}
	if n := st2.CachedInfo().State.Msgs; n != 1 {
		t.Errorf("messages after restart = %d, want 1", n)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.msgs) != 0 {
		t.Errorf("broker logged errors: %q", log.msgs)
	}
}

func TestStartFailsWhenPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var log errLog
	b, err := Start(ctx, ln.Addr().(*net.TCPAddr).Port, t.TempDir(), log.errorf)
	if err == nil {
		b.Shutdown()
		t.Fatal("started on a taken port")
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.msgs) == 0 {
		t.Error("the listen error was not logged")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
