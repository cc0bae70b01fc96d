package ports

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"pixshare/platform/logging"
	"pixshare/platform/pubsub"
)

// Intake is the durable record of the deliveries the queue took and has
// not finished.
type Intake interface {
	// Add records ev (a second Add of the same id changes nothing) and
	// returns once the record is durable.
	Add(ctx context.Context, ev pubsub.Event) error
	Remove(ctx context.Context, id string) error
	// All returns every record, oldest first.
	All(ctx context.Context) ([]pubsub.Event, error)
}

// DeadLetters publishes an event given up for good (pubsub.Subscriber).
type DeadLetters interface {
	DeadLetter(ctx context.Context, ev pubsub.Event, reason error) error
}

// errStopping answers a delivery that arrives while the queue stops: the
// broker keeps it for the next start.
var errStopping = errors.New("the work queue is stopping")

// Queue runs the thumbnailer's work on a bounded pool of workers, several
// posts at once, whatever the broker's delivery concurrency.
//
// A delivery is acknowledged once it is recorded in Intake and a worker
// has taken it, not when the work ends: on a broker that hands the
// sidecar one message at a time (the JetStream profiles) the next upload
// is delivered while the previous one is still being made. The record
// keeps at-least-once: a delivery that is not recorded is answered RETRY
// and stays with the broker; one that is recorded is run until it ends
// for good (made, or given up and dead-lettered) and only then forgotten,
// and whatever is recorded when the process dies (killed, crashed,
// stopped mid-work) is run again when it starts. A transient failure is
// retried here, with a growing pause, instead of by the broker.
//
// The pool bounds the work: a delivery waits for a free worker before it
// is recorded, so at most Workers are taken at once and the rest stay
// with the broker (the memory budget then bounds the pictures being
// decoded within those).
type Queue struct {
	intake   Intake
	dead     DeadLetters
	logger   *zap.Logger
	routes   map[string]pubsub.Handler
	slots    chan struct{}
	retryMin time.Duration
	retryMax time.Duration

	mu sync.Mutex
	// active holds the ids being worked on here, so a redelivery of one
	// is acknowledged rather than run twice at once.
	active  map[string]bool
	started bool
	// stopped is set by Stop, under mu: no worker starts after it.
	stopped bool
	// ctx ends at Stop: waits for a worker and pauses between retries
	// end with it; work under way does not.
	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup
}

// NewQueue returns a queue of at most workers concurrent pieces of work,
// recording in intake and dead-lettering through dead.
func NewQueue(intake Intake, dead DeadLetters, workers int, logger *zap.Logger) *Queue {
	ctx, cancel := context.WithCancel(context.Background())
	return &Queue{intake: intake, dead: dead, logger: logger.Named("queue"), routes: map[string]pubsub.Handler{},
		slots: make(chan struct{}, max(workers, 1)), retryMin: time.Second, retryMax: 30 * time.Second,
		active: map[string]bool{}, ctx: ctx, cancel: cancel}
}

// Handlers returns handlers that hand routes' events to the queue; the
// queue runs routes' own handlers, with the subscriber's meaning of their
// errors (nil: done; pubsub.Poison: dead-lettered; any other: retried).
func (q *Queue) Handlers(routes map[string]pubsub.Handler) map[string]pubsub.Handler {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make(map[string]pubsub.Handler, len(routes))
	for typ, h := range routes {
		q.routes[typ] = h
		out[typ] = q.take
	}
	return out
}

// take records ev and starts its work; the delivery is acknowledged when
// it returns nil.
func (q *Queue) take(ctx context.Context, ev pubsub.Event) error {
	if q.isActive(ev.ID) {
		return nil // recorded and under way here: a redelivery
	}
	if q.ctx.Err() != nil {
		return errStopping
	}
	select {
	case q.slots <- struct{}{}:
	case <-q.ctx.Done():
		return errStopping
	}
	if err := q.intake.Add(ctx, ev); err != nil {
		<-q.slots
		return err
	}
	if !q.claim(ev.ID) {
		<-q.slots // another delivery of it took it meanwhile
		return nil
	}
	if !q.spawn(ev) {
		// Recorded but not started: the next start resumes it, and the
		// broker's redelivery of it is then the same record.
		return errStopping
	}
	return nil
}

// Start resumes the work recorded before the process last stopped. Call
// it once the sidecar is up (the work reports through it).
func (q *Queue) Start() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started || q.stopped {
		return
	}
	q.started = true
	q.workers.Add(1)
	go func() {
		defer q.workers.Done()
		q.resume()
	}()
}

// resume runs every recorded event, oldest first, retrying the read of
// the records until it succeeds or the queue stops.
func (q *Queue) resume() {
	wait := q.retryMin
	for {
		evs, err := q.intake.All(q.ctx)
		if err == nil {
			if len(evs) > 0 {
				q.logger.Info("resuming work taken before the last stop", zap.Int("events", len(evs)))
			}
			for _, ev := range evs {
				if !q.claim(ev.ID) {
					continue
				}
				select {
				case q.slots <- struct{}{}:
					if !q.spawn(ev) {
						return
					}
				case <-q.ctx.Done():
					q.unclaim(ev.ID)
					return
				}
			}
			return
		}
		q.logger.Warn("could not read the work queue; retrying", zap.Error(err), zap.Duration("in", wait))
		if !q.pause(wait) {
			return
		}
		wait = min(2*wait, q.retryMax)
	}
}

// Stop takes no more deliveries and ends the pauses between retries, then
// lets the work under way finish until ctx ends. What is unfinished stays
// recorded for the next start.
func (q *Queue) Stop(ctx context.Context) {
	q.mu.Lock()
	q.stopped = true
	q.mu.Unlock()
	q.cancel()
	done := make(chan struct{})
	go func() {
		q.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func (q *Queue) isActive(id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active[id]
}

func (q *Queue) claim(id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.active[id] {
		return false
	}
	q.active[id] = true
	return true
}

func (q *Queue) unclaim(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.active, id)
}

// spawn runs ev's work on a worker; the caller holds a slot and ev's
// claim, which the worker gives back. Once the queue stopped it gives
// them back at once, runs nothing and reports false.
func (q *Queue) spawn(ev pubsub.Event) bool {
	q.mu.Lock()
	if q.stopped {
		delete(q.active, ev.ID)
		q.mu.Unlock()
		<-q.slots
		return false
	}
	q.workers.Add(1)
	q.mu.Unlock()
	go func() {
		defer q.workers.Done()
		defer func() { <-q.slots }()
		defer q.unclaim(ev.ID)
		q.work(ev)
	}()
	return true
}

// work runs ev until it ends for good, or until the queue stops between
// two attempts.
func (q *Queue) work(ev pubsub.Event) {
	log := q.logger.With(zap.String("event_id", ev.ID), zap.String("event_type", ev.Type),
		zap.String("topic", ev.Topic), zap.String("source", ev.Source))
	// The work outlives the delivery and the stop signal: it ends by
	// itself, or with the process.
	ctx := logging.WithContext(context.Background(), log)
	wait := q.retryMin
	for {
		err := q.run(ctx, ev)
		if pubsub.IsPoison(err) {
			if dlErr := q.dead.DeadLetter(ctx, ev, err); dlErr != nil {
				err = fmt.Errorf("dead-letter publish failed: %w", dlErr)
			} else {
				log.Warn("event dead-lettered", zap.Error(err))
				err = nil
			}
		}
		if err == nil {
			if rmErr := q.intake.Remove(ctx, ev.ID); rmErr != nil {
				// It runs once more after a restart, which the work
				// tolerates (every request is safe to deliver twice).
				log.Warn("could not forget finished work", zap.Error(rmErr))
			}
			return
		}
		log.Warn("work failed; will retry", zap.Error(err), zap.Duration("in", wait))
		if !q.pause(wait) {
			return // stopping: it stays recorded
		}
		wait = min(2*wait, q.retryMax)
	}
}

// run calls ev's handler, turning a panic into an error to retry.
func (q *Queue) run(ctx context.Context, ev pubsub.Event) (err error) {
	q.mu.Lock()
	h, ok := q.routes[ev.Type]
	q.mu.Unlock()
	if !ok {
		return pubsub.Poison(fmt.Errorf("no handler for event type %q", ev.Type))
	}
	defer func() {
		if p := recover(); p != nil {
			logging.FromContext(ctx, q.logger).Error("panic handling event", zap.Any("panic", p))
			err = errors.New("handler panicked")
		}
	}()
	return h(ctx, ev)
}

// pause waits d and reports whether the queue is still running.
func (q *Queue) pause(d time.Duration) bool {
	select {
	case <-q.ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
