// Package natsbroker embeds the NATS JetStream server that the local profile's
// pub/sub component talks to, so `make run` needs no broker installed.
package natsbroker

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Broker is a running in-process NATS server with JetStream.
type Broker struct {
	srv *server.Server
	url string
}

// Start runs NATS on 127.0.0.1:port with JetStream storing under storeDir.
// There is no monitoring port, the server leaves signals to the launcher,
// and only errors reach errorf: a healthy broker stays silent.
func Start(ctx context.Context, port int, storeDir string, errorf func(format string, args ...any)) (*Broker, error) {
	opts := &server.Options{
		ServerName:             "pixshare-stack",
		Host:                   "127.0.0.1",
		Port:                   port,
		JetStream:              true,
		StoreDir:               storeDir,
		NoSigs:                 true,
		DisableJetStreamBanner: true,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start nats: %w", err)
	}
	log := &errorLogger{errorf: errorf, fatal: make(chan struct{})}
	srv.SetLogger(log, false, false)
	srv.Start()

	// Poll briefly rather than wait once: a fatal error (port taken) should
	// fail the start at once, not after the whole timeout.
	deadline := time.Now().Add(10 * time.Second)
	if d, ok := ctx.Deadline(); ok {
		deadline = d
	}
	for !srv.ReadyForConnections(100 * time.Millisecond) {
		select {
		case <-log.fatal:
			srv.Shutdown()
			return nil, fmt.Errorf("start nats on 127.0.0.1:%d: failed (see the error above)", port)
		case <-ctx.Done():
			srv.Shutdown()
			return nil, fmt.Errorf("start nats: %w", ctx.Err())
		default:
		}
		if time.Now().After(deadline) {
			srv.Shutdown()
			return nil, fmt.Errorf("start nats: not accepting connections on 127.0.0.1:%d", port)
		}
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		return nil, fmt.Errorf("start nats: jetstream did not start (store dir %s)", storeDir)
	}
	addr := srv.Addr().(*net.TCPAddr)
	return &Broker{srv: srv, url: "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(addr.Port))}, nil
}

// URL is the client URL, e.g. nats://127.0.0.1:4223.
func (b *Broker) URL() string { return b.url }

// Shutdown stops the server and waits until it has flushed its store.
func (b *Broker) Shutdown() {
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
}

// errorLogger drops everything below error level. Fatalf must not exit the
// process as the server's own logger would: the launcher still has children
// to stop.
type errorLogger struct {
	errorf    func(format string, args ...any)
	fatal     chan struct{}
	fatalOnce sync.Once
}

func (l *errorLogger) Noticef(string, ...any) {}
func (l *errorLogger) Warnf(string, ...any)   {}
func (l *errorLogger) Debugf(string, ...any)  {}
func (l *errorLogger) Tracef(string, ...any)  {}

func (l *errorLogger) Errorf(format string, args ...any) {
	l.errorf(format, args...)
}

func (l *errorLogger) Fatalf(format string, args ...any) {
	l.errorf(format, args...)
	l.fatalOnce.Do(func() { close(l.fatal) })
}
