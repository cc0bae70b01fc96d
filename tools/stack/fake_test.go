package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a fake daprd and a fake app, so the launcher can
// be tested end to end without a real sidecar. fakeEnv turns this on; the
// name the binary is started under (a symlink) picks the role.
const fakeEnv = "STACK_TEST_FAKE_EVENTS"

func TestMain(m *testing.M) {
	if events := os.Getenv(fakeEnv); events != "" {
		if filepath.Base(os.Args[0]) == "daprd" {
			fakeDaprd(events, os.Args[1:])
		} else {
			fakeApp(events)
		}
		return
	}
	os.Exit(m.Run())
}

// event appends one line to the shared events file; O_APPEND keeps lines
// from different processes whole and in order.
func event(path, format string, args ...any) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, format+"\n", args...)
}

func fakeDaprd(events string, args []string) {
	fs := flag.NewFlagSet("daprd", flag.ContinueOnError)
	version := fs.Bool("version", false, "")
	appID := fs.String("app-id", "", "")
	httpPort := fs.Int("dapr-http-port", 0, "")
	// Every other flag the launcher may pass is accepted and ignored.
	for _, name := range []string{"app-port", "app-protocol", "app-channel-address", "dapr-grpc-port",
		"dapr-internal-grpc-port", "dapr-internal-grpc-listen-address", "metrics-port", "dapr-listen-addresses", "resources-path", "config",
		"max-body-size", "read-buffer-size", "log-level"} {
		fs.String(name, "", "")
	}
	if err := fs.Parse(args); err != nil {
		os.Exit(2)
	}
	if *version {
		fmt.Println("1.14.0")
		return
	}
	name := *appID + ".dapr"
	event(events, "start %s pid=%d DAPR_HOST_IP=%s args=%s", name, os.Getpid(), os.Getenv("DAPR_HOST_IP"), strings.Join(args, " "))
	mux := http.NewServeMux()
	var first sync.Once
	mux.HandleFunc("/v1.0/healthz/outbound", func(w http.ResponseWriter, r *http.Request) {
		if os.Getenv("FAKE_DAPRD_NO_OUTBOUND") != "" {
			http.Error(w, "components failed", http.StatusInternalServerError)
			return
		}
		first.Do(func() { event(events, "outbound-ok %s", name) })
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/v1.0/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	serveUntilTerm(events, name, fmt.Sprintf("127.0.0.1:%d", *httpPort), mux)
}

func fakeApp(events string) {
	name := os.Getenv("APP_ID")
	event(events, "start %s pid=%d APP_ID=%s DAPR_HTTP_PORT=%s APP_PROTOCOL=%s HTTP_ADDR=%s",
		name, os.Getpid(), os.Getenv("APP_ID"), os.Getenv("DAPR_HTTP_PORT"), os.Getenv("APP_PROTOCOL"), os.Getenv("HTTP_ADDR"))
	fmt.Println("fake app", name, "starting")
	if d, err := time.ParseDuration(os.Getenv("FAKE_EXIT_AFTER")); err == nil {
		time.Sleep(d)
		fmt.Println("boom")
		fmt.Fprintln(os.Stderr, "fatal: fake failure")
		os.Exit(3)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if os.Getenv("FAKE_NEVER_READY") != "" {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	addr := os.Getenv("HTTP_ADDR")
	if addr == "" {
		// A worker without REST: just wait for the signal.
		serveUntilTerm(events, name, "", nil)
		return
	}
	serveUntilTerm(events, name, addr, mux)
}

func serveUntilTerm(events, name, addr string, h http.Handler) {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "listen:", err)
			os.Exit(1)
		}
		go http.Serve(ln, h) //nolint:errcheck // ends with the process
	}
	fmt.Println(name, "up")
	<-term
	event(events, "term %s", name)
	fmt.Println(name, "stopping")
}
