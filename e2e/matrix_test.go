package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"pixshare/contracts/events"
	"pixshare/platform/database"
	"pixshare/platform/database/dbtest"
	"pixshare/platform/natsbroker"
)

// TestJourneyMatrix runs the same journey, with the same binaries, on
// every infrastructure profile whose services this machine has (their
// addresses come from the environment; .ci/run sets them all).
func TestJourneyMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e skipped in -short mode")
	}
	t.Run("local", func(t *testing.T) {
		journey(t, Start(t, Options{}))
	})
	t.Run("redis+postgres", func(t *testing.T) {
		addr := need(t, "PIXSHARE_TEST_REDIS_ADDR")
		dbs := postgresDatabases(t)
		journey(t, Start(t, Options{Profile: "redis", NoBroker: true, DatabaseURLs: dbs,
			Replace: map[string]string{"localhost:6379": addr, "127.0.0.1:6379": addr}}))
	})
	t.Run("rabbitmq", func(t *testing.T) {
		u := need(t, "PIXSHARE_TEST_RABBITMQ_URL")
		journey(t, Start(t, Options{Profile: "rabbitmq", NoBroker: true,
			Replace: map[string]string{"amqp://guest:guest@127.0.0.1:5672/": u, "amqp://guest:guest@127.0.0.1:5672": strings.TrimSuffix(u, "/")}}))
	})
	t.Run("nats", func(t *testing.T) {
		u := need(t, "PIXSHARE_TEST_NATS_URL")
		// The external broker's stream must exist, as on any real NATS.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := natsbroker.EnsureStream(ctx, u, natsbroker.Stream{Name: "pixshare", Subjects: events.Topics, MaxAge: 24 * time.Hour, MaxBytes: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		journey(t, Start(t, Options{Profile: "nats", NoBroker: true,
			Replace: map[string]string{"nats://127.0.0.1:4222": u}}))
	})
	t.Run("mqtt", func(t *testing.T) {
		u := need(t, "PIXSHARE_TEST_MQTT_URL")
		journey(t, Start(t, Options{Profile: "mqtt", NoBroker: true,
			Replace: map[string]string{"tcp://127.0.0.1:1883": u}}))
	})
}

// need returns the environment variable or skips t, saying why.
func need(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("profile skipped: %s is not set (no such service on this machine)", name)
	}
	return v
}

// postgresDatabases creates one fresh database per service and returns
// their URLs by name; they are dropped when t ends.
func postgresDatabases(t *testing.T) map[string]string {
	t.Helper()
	dsn := need(t, dbtest.PostgresEnv)
	admin, err := database.Open(context.Background(), database.Config{URL: dsn, MaxOpenConns: 2}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	run := hex.EncodeToString(b[:])
	out := map[string]string{}
	for _, db := range []string{"user", "post", "comment", "search"} {
		name := "pixshare_" + run + "_" + db
		if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?", name)
			admin.Exec("DROP DATABASE IF EXISTS " + name)
		})
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		out[db] = u.String()
	}
	return out
}
