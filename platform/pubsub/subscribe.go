package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/zap"

	"pixshare/platform/logging"
)

// Event is one delivered CloudEvent.
type Event struct {
	ID    string
	Type  string
	Topic string
	// Source is the CloudEvent source: the publishing app's id, as its
	// sidecar set it. The subscriber has already checked that it owns Type.
	Source string
	Data   []byte
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
	Source string          `json:"source,omitempty"`
	App    string          `json:"app"`
	Reason string          `json:"reason"`
	Data   json.RawMessage `json:"data,omitempty"`
	Raw    string          `json:"raw,omitempty"`
}

// Streams opens a streaming subscription on the app's sidecar; the go-sdk
// client (dapr.Client) is one.
type Streams interface {
	Subscribe(ctx context.Context, opts dapr.SubscriptionOptions) (*dapr.Subscription, error)
}

// Subscriber delivers an app's topic to its handlers.
//
// Deliveries come over a stream the app itself opens to its own sidecar
// (Dapr 1.14's SubscribeTopicEventsAlpha1, authenticated like every other
// call to the sidecar with DAPR_API_TOKEN), never as calls to the app's
// port: Dapr 1.14 sends no app token with OnTopicEvent, so a port that
// accepted deliveries would obey any local process. The app registers no
// programmatic subscriptions and its port refuses OnTopicEvent
// (platform/grpcserver).
type Subscriber struct {
	streams Streams
	pubsub  string
	app     string
	dead    Publisher
	logger  *zap.Logger
	// retryWait is the pause before a broken stream is opened again.
	retryWait time.Duration

	mu       sync.Mutex
	topics   []*topicSub
	started  bool
	stopping atomic.Bool
	// streamCtx bounds the streams; it ends after Stop drained them.
	streamCtx context.Context
	cancel    context.CancelFunc
	loops     sync.WaitGroup
	inflight  sync.WaitGroup
}

type topicSub struct {
	topic   string
	routes  map[string]Handler
	mu      sync.Mutex
	stream  *dapr.Subscription // current stream, nil while (re)connecting
	lastErr error
}

// NewSubscriber subscribes through streams (the app's sidecar client) on
// the pub/sub component pubsub; dead receives poison messages.
func NewSubscriber(streams Streams, pubsub, app string, dead Publisher, logger *zap.Logger) *Subscriber {
	ctx, cancel := context.WithCancel(context.Background())
	return &Subscriber{streams: streams, pubsub: pubsub, app: app, dead: dead, logger: logger.Named("events"),
		retryWait: time.Second, streamCtx: ctx, cancel: cancel}
}

// Subscribe routes topic's events by CloudEvent type. Events of other types
// are acknowledged and ignored: several apps share the domain-events topic
// and each cares about a few types. Every routed type must have declared
// owners (DeclareOwners); an event whose source is not one of them is
// dead-lettered, never handled.
func (s *Subscriber) Subscribe(topic string, routes map[string]Handler) error {
	for typ := range routes {
		if len(OwnersOf(typ)) == 0 {
			return fmt.Errorf("subscribe %s/%s: the event type has no declared owner", topic, typ)
		}
	}
	ts := &topicSub{topic: topic, routes: routes}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.topics {
		if t.topic == topic {
			return fmt.Errorf("subscribe %s: already subscribed", topic)
		}
	}
	s.topics = append(s.topics, ts)
	if s.started {
		s.loops.Add(1)
		go s.run(ts)
	}
	return nil
}

// Start opens every subscription's stream (and keeps reopening it while
// the app runs). Call it once the sidecar is up.
func (s *Subscriber) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return
	}
	s.started = true
	for _, ts := range s.topics {
		s.loops.Add(1)
		go s.run(ts)
	}
}

// Ready reports whether every subscription has an open stream.
func (s *Subscriber) Ready() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ts := range s.topics {
		ts.mu.Lock()
		stream, err := ts.stream, ts.lastErr
		ts.mu.Unlock()
		if stream == nil {
			if err != nil {
				return fmt.Errorf("subscription to %s not open: %v", ts.topic, err)
			}
			return fmt.Errorf("subscription to %s not open yet", ts.topic)
		}
	}
	return nil
}

// Stop lets in-flight deliveries finish (until ctx ends), answers RETRY to
// any that arrive meanwhile, then closes the streams.
func (s *Subscriber) Stop(ctx context.Context) {
	s.stopping.Store(true)
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	s.mu.Lock()
	for _, ts := range s.topics {
		ts.mu.Lock()
		if ts.stream != nil {
			_ = ts.stream.Close()
		}
		ts.mu.Unlock()
	}
	s.mu.Unlock()
	s.cancel()
	s.loops.Wait()
}

// run keeps one topic's stream open until Stop.
func (s *Subscriber) run(ts *topicSub) {
	defer s.loops.Done()
	log := s.logger.With(zap.String("topic", ts.topic))
	wait := s.retryWait
	for s.streamCtx.Err() == nil && !s.stopping.Load() {
		stream, err := s.streams.Subscribe(s.streamCtx, dapr.SubscriptionOptions{PubsubName: s.pubsub, Topic: ts.topic})
		if err != nil {
			ts.mu.Lock()
			ts.lastErr = err
			ts.mu.Unlock()
			if s.streamCtx.Err() == nil {
				log.Warn("subscription stream failed to open; retrying", zap.Error(err), zap.Duration("in", wait))
			}
			s.pause(wait)
			wait = min(2*wait, 10*s.retryWait)
			continue
		}
		wait = s.retryWait
		ts.mu.Lock()
		ts.stream, ts.lastErr = stream, nil
		ts.mu.Unlock()
		log.Info("subscribed")
		for {
			msg, err := stream.Receive()
			if err != nil {
				ts.mu.Lock()
				ts.stream, ts.lastErr = nil, err
				ts.mu.Unlock()
				if !s.stopping.Load() && s.streamCtx.Err() == nil {
					log.Warn("subscription stream broke; reopening", zap.Error(err))
				}
				_ = stream.Close()
				break
			}
			if s.stopping.Load() {
				// Unanswered: the sidecar times out and the broker
				// redelivers it to the next instance.
				continue
			}
			s.inflight.Add(1)
			go func() {
				defer s.inflight.Done()
				ev := Event{ID: msg.ID, Type: msg.Type, Topic: ts.topic, Source: msg.Source, Data: msg.RawData}
				var answer error
				if s.deliver(ts.routes, ev) {
					answer = msg.Retry()
				} else {
					answer = msg.Success()
				}
				if answer != nil {
					// The stream broke: the broker redelivers the message.
					log.Debug("could not answer a delivery", zap.String("event_id", ev.ID), zap.Error(answer))
				}
			}()
		}
		s.pause(wait)
	}
}

func (s *Subscriber) pause(d time.Duration) {
	select {
	case <-s.streamCtx.Done():
	case <-time.After(d):
	}
}

// deliver runs ev's handler and reports whether Dapr should retry it.
func (s *Subscriber) deliver(routes map[string]Handler, ev Event) (retry bool) {
	log := s.logger.With(zap.String("event_id", ev.ID), zap.String("event_type", ev.Type),
		zap.String("topic", ev.Topic), zap.String("source", ev.Source))
	h, ok := routes[ev.Type]
	if !ok {
		log.Debug("event ignored")
		return false
	}
	ctx := logging.WithContext(context.Background(), log)
	err := checkSource(ev.Type, ev.Source)
	if err != nil {
		err = Poison(err)
	} else {
		err = s.handle(ctx, h, ev)
	}
	switch {
	case err == nil:
		log.Debug("event handled")
		return false
	case IsPoison(err):
		if dlErr := s.DeadLetter(ctx, ev, err); dlErr != nil {
			log.Error("dead-letter publish failed; will retry", zap.Error(dlErr))
			return true
		}
		log.Warn("event dead-lettered", zap.Error(err))
		// Acknowledge: the message now lives on the dead-letter topic.
		return false
	default:
		log.Warn("event failed; will retry", zap.Error(err))
		return true
	}
}

// handle runs h, turning a panic into a retry (the stream must survive a
// bad handler).
func (s *Subscriber) handle(ctx context.Context, h Handler, ev Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			logging.FromContext(ctx, s.logger).Error("panic handling event", zap.Any("panic", p))
			err = errors.New("handler panicked")
		}
	}()
	return h(ctx, ev)
}

// DeadLetter publishes ev to the dead-letter topic with reason, as the
// subscriber does for a handler's Poison error: for an app that took a
// delivery off the sidecar's hands and finds it poison later.
func (s *Subscriber) DeadLetter(ctx context.Context, ev Event, reason error) error {
	dl := DeadLetter{ID: ev.ID, Type: ev.Type, Topic: ev.Topic, Source: ev.Source, App: s.app, Reason: reason.Error()}
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
