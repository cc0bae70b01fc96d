package natsbroker

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream describes the one JetStream stream that carries every topic.
type Stream struct {
	Name     string
	Subjects []string // one per Dapr topic
	MaxAge   time.Duration
	MaxBytes int64
}

// EnsureStream creates the stream or updates it to match s; running it on
// every start is safe. Retention is "limits", not "interest": with interest
// retention a message published before a subscriber's durable consumer
// exists would be dropped, and apps start in no particular order.
func EnsureStream(ctx context.Context, url string, s Stream) error {
	nc, err := nats.Connect(url, nats.Name("pixshare-stack"))
	if err != nil {
		return fmt.Errorf("ensure stream %s: connect %s: %w", s.Name, url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("ensure stream %s: %w", s.Name, err)
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:      s.Name,
		Subjects:  s.Subjects,
		Storage:   jetstream.FileStorage,
		Retention: jetstream.LimitsPolicy,
		Discard:   jetstream.DiscardOld,
		MaxAge:    s.MaxAge,
		MaxBytes:  s.MaxBytes,
	})
	if err != nil {
		return fmt.Errorf("ensure stream %s: %w", s.Name, err)
	}
	return nil
}

// Backlog reports how many messages a durable consumer (a Dapr app id) has
// not yet been sent or has not yet acknowledged. Tests use it to know when
// an app has processed everything published so far.
func Backlog(url, stream, consumer string) (uint64, error) {
	nc, err := nats.Connect(url, nats.Name("pixshare-backlog"))
	if err != nil {
		return 0, fmt.Errorf("backlog of %s: connect %s: %w", consumer, url, err)
	}
	defer nc.Close()
	// Dapr's consumers are push consumers, which the newer jetstream API
	// does not describe; the classic context does.
	js, err := nc.JetStream()
	if err != nil {
		return 0, fmt.Errorf("backlog of %s: %w", consumer, err)
	}
	info, err := js.ConsumerInfo(stream, consumer)
	if err != nil {
		return 0, fmt.Errorf("backlog of %s: %w", consumer, err)
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// Purge removes every message of one subject from the stream (fault tests
// simulate lost messages with it).
func Purge(url, stream, subject string) error {
	nc, err := nats.Connect(url, nats.Name("pixshare-purge"))
	if err != nil {
		return fmt.Errorf("purge %s: connect %s: %w", subject, url, err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		return fmt.Errorf("purge %s: %w", subject, err)
	}
	if err := js.PurgeStream(stream, &nats.StreamPurgeRequest{Subject: subject}); err != nil {
		return fmt.Errorf("purge %s: %w", subject, err)
	}
	return nil
}
