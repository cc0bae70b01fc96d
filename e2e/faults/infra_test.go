package faults

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"pixshare/platform/daprtest"
	"pixshare/platform/database"
	"pixshare/platform/database/dbtest"
)

// privateRedis runs a redis-server of our own (the machine's is shared by
// other tests and must not be stopped), or skips t when there is none.
func privateRedis(t *testing.T) (port int, stop func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed: the cache-outage scenario needs one to stop")
	}
	port = daprtest.FreePort(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop = func() {
		_ = cmd.Process.Kill()
		<-done
	}
	t.Cleanup(stop)
	return port, stop
}

func redisCache(port int) string {
	return fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: cache
spec:
  type: state.redis
  version: v1
  metadata:
    - name: redisHost
      value: 127.0.0.1:%d
    - name: redisPassword
      value: ""
    - name: dialTimeout
      value: 200ms
    - name: readTimeout
      value: 200ms
    - name: keyPrefix
      value: none
`, port)
}

// TestCacheDown stops the Redis behind the cache while the journey runs:
// reads are still served (from the databases) and nothing answers 5xx.
func TestCacheDown(t *testing.T) {
	port, stopRedis := privateRedis(t)
	s := start(t, options{cache: redisCache(port)})
	alice, bob := s.client(), s.client()
	aliceID := alice.Register("alice")
	bob.Register("bob")
	ids := s.journey(alice, "alice", 3, "")
	bob.Expect(200, "GET", "/v1/posts/"+ids[0], nil) // fill the cache

	stopRedis()
	for round := range 3 {
		for _, path := range []string{"/v1/posts/" + ids[0], "/v1/users/" + aliceID, "/v1/search?tag=fault", "/v1/posts/" + ids[1] + "/comments", "/v1/feed"} {
			if r := bob.Do("GET", path, nil); r.Status >= 500 {
				t.Fatalf("round %d: GET %s answered %d with the cache down: %s", round, path, r.Status, r.Body)
			}
		}
		if r := alice.Do("PATCH", "/v1/posts/"+ids[1], map[string]any{"caption": fmt.Sprint("round ", round)}); r.Status != 200 {
			t.Fatalf("an edit with the cache down: %d %s", r.Status, r.Body)
		}
	}
	s.journey(bob, "bob", 2, aliceID)
	s.check(invariants{})
}

// TestDatabaseUnavailable refuses every connection to the post service's
// PostgreSQL database: requests get 503 problem documents, and once the
// database accepts connections again the service recovers by itself.
func TestDatabaseUnavailable(t *testing.T) {
	dsn := os.Getenv(dbtest.PostgresEnv)
	if dsn == "" {
		t.Skipf("needs PostgreSQL: set %s", dbtest.PostgresEnv)
	}
	ctx := context.Background()
	admin, err := database.Open(ctx, database.Config{URL: dsn, MaxOpenConns: 2}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "pixshare_fault_" + hex.EncodeToString(b[:])
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")
		admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?", name)
		admin.Exec("DROP DATABASE IF EXISTS " + name)
	})
	u, _ := url.Parse(dsn)
	u.Path = "/" + name
	s := start(t, options{env: map[string]map[string]string{"post": {"DATABASE_URL": u.String()}}})
	alice := s.client()
	alice.Register("alice")
	id := s.upload(alice, s.photo("small.png"), "pg", "pg")

	if err := admin.Exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false").Error; err != nil {
		t.Fatal(err)
	}
	admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?", name)
	for range 3 {
		r := alice.Do("GET", "/v1/posts/"+id, nil)
		if r.Status != 503 || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("with the database refusing connections: %d %s", r.Status, r.Body)
		}
	}
	if err := admin.Exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true").Error; err != nil {
		t.Fatal(err)
	}
	daprtest.WaitFor(t, 30*time.Second, "the post service to recover without a restart", func() bool {
		return alice.Do("GET", "/v1/posts/"+id, nil).Status == 200
	})
	s.check(invariants{})
}
