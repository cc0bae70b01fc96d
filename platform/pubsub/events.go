// Package pubsub is how Pixshare apps publish and consume CloudEvents
// through Dapr pub/sub. What is published (topics, types, payloads) is the
// contracts module's; this package is the mechanism.
//
// Each app subscribes to exactly one topic and routes by CloudEvent type
// (docs/architecture.md, "one topic per app"). Deliveries arrive over a
// stream the app opens to its own sidecar, never as calls to the app's port
// (see Subscriber). An event is handled only when its CloudEvent source is
// an owner of its type (DeclareOwners; contracts/events declares them);
// otherwise it is dead-lettered. Handlers are idempotent: delivery is at
// least once. A handler's error decides the message's fate: nil acks it, an
// error marked Poison sends it to the dead-letter topic (it can never
// succeed), any other error asks Dapr to retry (resiliency policy, then
// broker redelivery).
package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	dapr "github.com/dapr/go-sdk/client"
)

// TopicDeadLetters receives the messages consumers give up on.
const TopicDeadLetters = "dead-letters"

// TypeDeadLetter is the CloudEvent type of dead-letter messages.
const TypeDeadLetter = "pixshare.dead-letter"

// Message is one event to publish.
type Message struct {
	// ID becomes the CloudEvent id; consumers may deduplicate on it.
	ID string
	// Type becomes the CloudEvent type; subscribers route on it.
	Type string
	// Data is the JSON payload.
	Data []byte
}

// Publisher publishes messages to a topic.
type Publisher interface {
	Publish(ctx context.Context, topic string, msg Message) error
}

// DaprPublisher publishes through the sidecar's pub/sub component.
type DaprPublisher struct {
	client dapr.Client
	pubsub string
}

// NewDaprPublisher publishes through the component named pubsub.
func NewDaprPublisher(client dapr.Client, pubsub string) *DaprPublisher {
	return &DaprPublisher{client: client, pubsub: pubsub}
}

// Publish sends msg as a JSON CloudEvent whose id and type are msg's.
func (p *DaprPublisher) Publish(ctx context.Context, topic string, msg Message) error {
	err := p.client.PublishEvent(ctx, p.pubsub, topic, msg.Data,
		dapr.PublishEventWithContentType("application/json"),
		dapr.PublishEventWithMetadata(map[string]string{
			"cloudevent.id":   msg.ID,
			"cloudevent.type": msg.Type,
		}),
	)
	if err != nil {
		return fmt.Errorf("publish %s to %s: %w", msg.Type, topic, err)
	}
	return nil
}

// poison marks an error that no retry can fix.
type poison struct{ err error }

func (p poison) Error() string { return "poison message: " + p.err.Error() }
func (p poison) Unwrap() error { return p.err }

// Poison marks err as permanent: the message goes to the dead-letter topic.
func Poison(err error) error {
	if err == nil {
		return nil
	}
	return poison{err}
}

// IsPoison reports whether err was marked with Poison.
func IsPoison(err error) bool {
	var p poison
	return errors.As(err, &p)
}

// Decode unmarshals an event's JSON data strictly; a payload that does not
// decode is poison.
func Decode(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return Poison(fmt.Errorf("decode event data: %w", err))
	}
	return nil
}
