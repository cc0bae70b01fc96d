package pubsub

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	daprcommon "github.com/dapr/go-sdk/service/common"
	"go.uber.org/zap"

	"pixshare/platform/logging"
)

// Event is one delivered CloudEvent.
type Event struct {
	ID    string
	Type  string
	Topic string
	Data  []byte
}

// Handler processes one event. See the package comment for what its error
// means.
type Handler func(ctx context.Context, ev Event) error

// DeadLetter is what the dead-letter topic holds: the message and why it
// was given up.
type DeadLetter struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Topic  string          `json:"topic"`
	App    string          `json:"app"`
	Reason string          `json:"reason"`
	Data   json.RawMessage `json:"data,omitempty"`
	Raw    string          `json:"raw,omitempty"`
}

// Subscriber registers an app's handlers with Dapr.
type Subscriber struct {
	svc    daprcommon.Service
	pubsub string
	app    string
	dead   Publisher
	logger *zap.Logger
}

// NewSubscriber registers on svc (the app's Dapr callback service) for the
// pub/sub component pubsub; dead receives poison messages.
func NewSubscriber(svc daprcommon.Service, pubsub, app string, dead Publisher, logger *zap.Logger) *Subscriber {
	return &Subscriber{svc: svc, pubsub: pubsub, app: app, dead: dead, logger: logger.Named("events")}
}

// Subscribe subscribes to topic with one routing rule per event type.
// Events of other types are acknowledged and ignored: several apps share the
// domain-events topic and each cares about a few types.
func (s *Subscriber) Subscribe(topic string, routes map[string]Handler) error {
	types := make([]string, 0, len(routes))
	for t := range routes {
		types = append(types, t)
	}
	sort.Strings(types)
	for i, typ := range types {
		h := routes[typ]
		err := s.svc.AddTopicEventHandler(&daprcommon.Subscription{
			PubsubName: s.pubsub,
			Topic:      topic,
			Route:      "/" + typ,
			Match:      "event.type == " + strconv.Quote(typ),
			Priority:   i + 1,
		}, s.wrap(h))
		if err != nil {
			return fmt.Errorf("subscribe %s/%s: %w", topic, typ, err)
		}
	}
	err := s.svc.AddTopicEventHandler(&daprcommon.Subscription{
		PubsubName: s.pubsub,
		Topic:      topic,
		Route:      "/unrouted",
	}, func(ctx context.Context, e *daprcommon.TopicEvent) (bool, error) {
		s.logger.Debug("event ignored", zap.String("type", e.Type), zap.String("event_id", e.ID))
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("subscribe %s default route: %w", topic, err)
	}
	return nil
}

func (s *Subscriber) wrap(h Handler) daprcommon.TopicEventHandler {
	return func(ctx context.Context, e *daprcommon.TopicEvent) (retry bool, err error) {
		ev := Event{ID: e.ID, Type: e.Type, Topic: e.Topic, Data: e.RawData}
		log := logging.FromContext(ctx, s.logger).With(
			zap.String("event_id", ev.ID), zap.String("event_type", ev.Type), zap.String("topic", ev.Topic))
		ctx = logging.WithContext(ctx, log)
		err = h(ctx, ev)
		switch {
		case err == nil:
			log.Debug("event handled")
			return false, nil
		case IsPoison(err):
			if dlErr := s.deadLetter(ctx, ev, err); dlErr != nil {
				log.Error("dead-letter publish failed; will retry", zap.Error(dlErr))
				return true, dlErr
			}
			log.Warn("event dead-lettered", zap.Error(err))
			// Acknowledge: the message now lives on the dead-letter topic.
			return false, nil
		default:
			log.Warn("event failed; will retry", zap.Error(err))
			return true, err
		}
	}
}

func (s *Subscriber) deadLetter(ctx context.Context, ev Event, reason error) error {
	dl := DeadLetter{ID: ev.ID, Type: ev.Type, Topic: ev.Topic, App: s.app, Reason: reason.Error()}
	if json.Valid(ev.Data) {
		dl.Data = ev.Data
	} else {
		dl.Raw = string(ev.Data)
	}
	data, err := json.Marshal(dl)
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	return s.dead.Publish(ctx, TopicDeadLetters, Message{
		ID:   s.app + ":" + ev.ID,
		Type: TypeDeadLetter,
		Data: data,
	})
}
