package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/zap"
)

// A Stamp is the version of one subject's cacheable state ("user:<id>",
// "post:<id>") as the shared state store holds it. Every replica of every
// service reads the same store, so a change that replaces a subject's stamp
// before its response leaves invalidates every in-process copy on every
// replica at once: a copy is only served while the stamp it was filled
// under is still the current one.
//
// A stamp is random, not a counter, so changing it needs no read. A stamp
// marked pending says a change of the subject is in flight (or died in
// flight): nobody may cache the subject until the writer gives it a clean
// stamp. The zero Stamp (unknown, unreadable, store down) is never usable.
type Stamp string

const pendingMark = "pending:"

// Usable reports whether copies may be kept and served under s.
func (s Stamp) Usable() bool { return s != "" && !strings.HasPrefix(string(s), pendingMark) }

func newStamp(pending bool) Stamp {
	var b [12]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	if pending {
		return Stamp(pendingMark + s)
	}
	return Stamp(s)
}

// StampStore reads and changes stamps. Stamps is the Dapr implementation;
// tests use an in-memory one.
type StampStore interface {
	// Read returns the current stamp of each subject, as read after the
	// call began; a subject that cannot be read maps to the zero Stamp.
	// The map may be shared: callers only read it.
	Read(ctx context.Context, subjects []string) map[string]Stamp
	// Change runs write (which commits the change of the subjects' state,
	// or fails having committed nothing) between marking the subjects
	// pending and giving them clean stamps, and returns write's error.
	// When the store cannot be reached the write goes ahead all the same:
	// the stamps are renewed as soon as the store is back (see Epoch).
	Change(ctx context.Context, subjects []string, write func() error) error
	// Touch renews the subjects' stamps after a change already committed
	// of state that may be a moment stale (counters, processing flags),
	// without Change's pending marks and wait: this process sees the
	// change at once, other processes within the reading window. A stamp
	// that cannot be renewed is renewed once the store answers again.
	Touch(ctx context.Context, subjects []string)
	// Epoch changes whenever this process failed to reach the store (its
	// own calls, or a heartbeat while idle). A copy is served only under
	// the epoch it was filled in: a change made while the store was out of
	// reach could not renew its stamps, so nothing cached before an outage
	// is trusted after it.
	Epoch() uint64
}

// StampsConfig is read from the environment.
type StampsConfig struct {
	// Timeout bounds one state-store call, so a paused store costs a
	// request at most this much before the breaker opens.
	Timeout time.Duration `env:"CACHE_TIMEOUT" envDefault:"250ms"`
	// BreakerFailures consecutive failed calls open the breaker for
	// BreakerOpen: calls then fail at once (every check goes to the owner)
	// until a probe succeeds.
	BreakerFailures int           `env:"CACHE_BREAKER_FAILURES" envDefault:"5"`
	BreakerOpen     time.Duration `env:"CACHE_BREAKER_OPEN" envDefault:"5s"`
	// TTL is how long an untouched stamp lives. A subject whose stamp
	// expired gets a new one, which invalidates its copies: safe, only
	// colder.
	TTL time.Duration `env:"CACHE_STAMP_TTL" envDefault:"24h"`
	// Window is how long a reading of a stamp may be used after the read
	// began, and how long every change waits after its last stamp write
	// before it returns: a request that starts after a change returned
	// can only use readings that began after the change's stamps were
	// written. Longer windows read the store less under load and make
	// every change that much slower; 0 reads for every request.
	Window time.Duration `env:"CACHE_STAMP_WINDOW" envDefault:"50ms"`
}

// Stamps keeps stamps in a Dapr state store shared by every app (its key
// prefix must be the same for all apps: keyPrefix "none").
type Stamps struct {
	client  dapr.Client
	store   string
	cfg     StampsConfig
	breaker *Breaker
	logger  *zap.Logger
	// repairs holds subjects whose stamp could not be renewed after a
	// change, with the pending mark it left (none when the store was out of
	// reach before the change).
	mu      sync.Mutex
	repairs map[string]Stamp
	kick    chan struct{}
	epoch   atomic.Uint64
	reads   *coalescer
	// readings holds recent readings, used for Window after they began.
	readings *readings
}

// NewStamps returns stamps on the state store named store.
func NewStamps(client dapr.Client, store string, cfg StampsConfig, logger *zap.Logger) *Stamps {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 250 * time.Millisecond
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 24 * time.Hour
	}
	s := &Stamps{client: client, store: store, cfg: cfg, breaker: NewBreaker(cfg.BreakerFailures, cfg.BreakerOpen),
		logger: logger.Named("stamps"), repairs: map[string]Stamp{}, kick: make(chan struct{}, 1)}
	s.reads = newCoalescer(maxBatchSubjects, s.readNow)
	s.readings = newReadings(cfg.Window, readingsKept)
	return s
}

// maxBatchSubjects bounds one coalesced bulk read (a request rarely needs
// more than two subjects; a feed page needs one per author).
const maxBatchSubjects = 256

// readingsKept bounds the readings kept for their window.
const readingsKept = 50000

// readAhead bounds the subjects in use that join a bulk read before their
// reading expires (readings.due). Stores without a native bulk get (Redis)
// make one call per key, so this stays well below a feed page's authors.
const readAhead = 32

func stampKey(subject string) string { return "stamp:" + subject }

func (s *Stamps) meta() map[string]string { return ttlMeta(s.cfg.TTL) }

// pendingTTL bounds how long a pending mark outlives a writer that died
// between marking and cleaning: longer than any transaction, after which
// the subject gets a fresh stamp (its change, if any, is committed by
// then).
const pendingTTL = time.Minute

func ttlMeta(ttl time.Duration) map[string]string {
	return map[string]string{"ttlInSeconds": strconv.Itoa(int(ttl / time.Second)), "contentType": "text/plain"}
}

// call runs f with the store timeout, through the breaker. A failure
// moves the epoch on.
func (s *Stamps) call(ctx context.Context, f func(ctx context.Context) error) error {
	if !s.breaker.Allow() {
		s.epoch.Add(1)
		return errBreakerOpen
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	err := f(ctx)
	ok := err == nil || isETagMismatch(err)
	s.breaker.Record(ok)
	if !ok {
		s.epoch.Add(1)
	}
	return err
}

// Epoch implements StampStore.
func (s *Stamps) Epoch() uint64 { return s.epoch.Load() }

var errBreakerOpen = errors.New("state store breaker open")

// Read implements StampStore. Requests reading at the same time share one
// bulk read (see coalescer), never one that began before they asked. The
// map returned may be shared with other requests: read it, never write it.
//
// A reading that began less than Window ago is used as it is: every change
// waits Window after its last stamp write before it returns (Change), so
// a request that starts after a change returned cannot be given a reading
// that began before the change's stamps were written.
func (s *Stamps) Read(ctx context.Context, subjects []string) map[string]Stamp {
	if s.cfg.Window <= 0 {
		return s.reads.Read(ctx, subjects)
	}
	now, epoch := time.Now(), s.Epoch()
	out := make(map[string]Stamp, len(subjects))
	var missing []string
	for _, sub := range subjects {
		if st, ok := s.readings.get(sub, now, epoch); ok {
			out[sub] = st
			continue
		}
		missing = append(missing, sub)
	}
	if len(missing) == 0 {
		return out
	}
	// The subjects other requests use, whose readings are about to
	// expire, are read now as well: one bulk read per window for the
	// subjects in use, not one each time any of them expires.
	ahead := s.readings.due(now, readAhead, missing)
	got := s.reads.Read(ctx, append(missing, ahead...))
	for _, sub := range missing {
		if st, ok := got[sub]; ok {
			out[sub] = st
		}
	}
	return out
}

// readNow reads subjects in one bulk call. A subject seen for the first
// time gets its first stamp here (written only if none exists, so a
// concurrent change's pending mark is never overwritten).
func (s *Stamps) readNow(ctx context.Context, subjects []string) map[string]Stamp {
	out := make(map[string]Stamp, len(subjects))
	if len(subjects) == 0 {
		return out
	}
	keys := make([]string, len(subjects))
	for i, sub := range subjects {
		keys[i] = stampKey(sub)
	}
	var items []*dapr.BulkStateItem
	// Taken before the call is sent: a reading is used for Window from
	// when it began, not from when it came back.
	start, epoch := time.Now(), s.Epoch()
	err := s.call(ctx, func(ctx context.Context) error {
		var err error
		items, err = s.client.GetBulkState(ctx, s.store, keys, nil, 0)
		return err
	})
	if err != nil {
		if !errors.Is(err, errBreakerOpen) {
			s.logger.Warn("stamps unreadable; checking with the owners", zap.Error(err))
		}
		return out
	}
	for _, it := range items {
		if it.Error != "" {
			continue
		}
		sub := strings.TrimPrefix(it.Key, "stamp:")
		st := Stamp(it.Value)
		if len(it.Value) == 0 {
			st = s.create(ctx, sub)
		}
		out[sub] = st
		if st != "" && s.cfg.Window > 0 {
			s.readings.put(sub, st, start, epoch)
		}
	}
	return out
}

// create gives a subject without a stamp its first one.
func (s *Stamps) create(ctx context.Context, subject string) Stamp {
	st := newStamp(false)
	err := s.call(ctx, func(ctx context.Context) error {
		return s.client.SaveState(ctx, s.store, stampKey(subject), []byte(st), s.meta(),
			dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite))
	})
	if err != nil {
		// Someone else wrote one first (or the store failed): use nothing
		// this time; the next request reads it.
		return ""
	}
	return st
}

// Change implements StampStore.
func (s *Stamps) Change(ctx context.Context, subjects []string, write func() error) error {
	if len(subjects) == 0 {
		return write()
	}
	pending := newStamp(true)
	var err error
	for _, sub := range subjects {
		if err = s.mark(ctx, sub, pending); err != nil {
			break
		}
	}
	if err != nil {
		// The store is out of reach: the change goes ahead (the data's
		// owner is its database, not the cache), and its stamps are renewed
		// once the store answers again. Every process that cannot reach the
		// store meanwhile serves nothing it cached before (Epoch).
		s.logger.Warn("stamps out of reach; the change is made and its stamps renewed later", zap.Error(err))
		werr := write()
		for _, sub := range subjects {
			s.scheduleRepair(sub, "")
		}
		return werr
	}
	werr := write()
	// Clean stamps, whether or not write committed: a failed write changed
	// nothing, and a clean stamp then only costs a cache miss.
	for _, sub := range subjects {
		if _, err := s.finish(context.WithoutCancel(ctx), sub, pending); err != nil {
			s.logger.Warn("stamp not renewed after a change; the subject stays uncached until it is",
				zap.String("subject", sub), zap.Error(err))
			s.scheduleRepair(sub, pending)
		}
	}
	// Every reading that began before the last stamp write ages out of
	// its window before the change returns (see Read). Whether or not the
	// client is still waiting: the change is made either way.
	time.Sleep(s.cfg.Window)
	return werr
}

// mark makes subject pending. Every write of a stamp names the ETag it
// replaces (or, for a subject without a stamp, asks for an insert): some
// stores (Redis) refuse a blind write to a key once it was written with
// first-write concurrency, and this way no concurrent write is lost
// unnoticed either.
func (s *Stamps) mark(ctx context.Context, subject string, pending Stamp) error {
	for attempt := 0; attempt < 5; attempt++ {
		var item *dapr.StateItem
		err := s.call(ctx, func(ctx context.Context) error {
			var err error
			item, err = s.client.GetState(ctx, s.store, stampKey(subject), nil)
			return err
		})
		if err != nil {
			return err
		}
		opt := dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite)
		err = s.call(ctx, func(ctx context.Context) error {
			return s.client.SaveStateWithETag(ctx, s.store, stampKey(subject), []byte(pending), item.Etag, ttlMeta(pendingTTL), opt)
		})
		if err == nil || !isETagMismatch(err) {
			return err
		}
	}
	return fmt.Errorf("stamp of %s kept changing", subject)
}

// Touch implements StampStore.
func (s *Stamps) Touch(ctx context.Context, subjects []string) {
	ctx = context.WithoutCancel(ctx)
	for _, sub := range subjects {
		epoch := s.Epoch()
		next, err := s.finish(ctx, sub, "")
		if err != nil {
			s.logger.Warn("stamp not renewed after a change; renewed once the store answers",
				zap.String("subject", sub), zap.Error(err))
			s.scheduleRepair(sub, "")
			continue
		}
		if next != "" && s.cfg.Window > 0 {
			// This process's next request sees the change: the reading
			// it would otherwise use may have begun before the write.
			s.readings.put(sub, next, time.Now(), epoch)
		}
	}
}

// finish gives subject a new clean stamp, and returns it, unless another
// change marked it pending meanwhile (that change cleans it after its own
// commit, which comes after ours; finish then returns the zero Stamp).
func (s *Stamps) finish(ctx context.Context, subject string, pending Stamp) (Stamp, error) {
	for attempt := 0; attempt < 5; attempt++ {
		var item *dapr.StateItem
		err := s.call(ctx, func(ctx context.Context) error {
			var err error
			item, err = s.client.GetState(ctx, s.store, stampKey(subject), nil)
			return err
		})
		if err != nil {
			return "", err
		}
		cur := Stamp(item.Value)
		if cur != pending && !cur.Usable() && cur != "" {
			return "", nil // another change is in flight: it renews after its commit, which follows ours
		}
		next := newStamp(false)
		opt := dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite)
		err = s.call(ctx, func(ctx context.Context) error {
			return s.client.SaveStateWithETag(ctx, s.store, stampKey(subject), []byte(next), item.Etag, s.meta(), opt)
		})
		if err == nil {
			return next, nil
		}
		if !isETagMismatch(err) {
			return "", err
		}
		// Changed under us: look again.
	}
	return "", fmt.Errorf("stamp of %s kept changing", subject)
}

func (s *Stamps) scheduleRepair(subject string, pending Stamp) {
	s.mu.Lock()
	s.repairs[subject] = pending
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run renews the stamps that could not be renewed after a change, and
// keeps in touch with the store while the process is idle (so the epoch
// moves on an outage nobody's request saw), until ctx ends. A subject
// still pending stays uncached until it is renewed: the cost of a failed
// renewal is speed, never staleness.
func (s *Stamps) Run(ctx context.Context) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	beat := time.NewTicker(time.Second)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			_ = s.call(ctx, func(ctx context.Context) error {
				_, err := s.client.GetState(ctx, s.store, "stamp:heartbeat", nil)
				return err
			})
			continue
		case <-tick.C:
		case <-s.kick:
		}
		s.mu.Lock()
		todo := make(map[string]Stamp, len(s.repairs))
		for k, v := range s.repairs {
			todo[k] = v
		}
		s.mu.Unlock()
		for sub, pending := range todo {
			if _, err := s.finish(ctx, sub, pending); err != nil {
				continue
			}
			s.mu.Lock()
			if s.repairs[sub] == pending {
				delete(s.repairs, sub)
			}
			s.mu.Unlock()
		}
	}
}

func isETagMismatch(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	// Redis answers a lost first-write race with "failed to set key".
	return strings.Contains(msg, "etag") || strings.Contains(msg, "ETag") || strings.Contains(msg, "Aborted") ||
		strings.Contains(msg, "failed to set key")
}
