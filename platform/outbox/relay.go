package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
	"go.uber.org/zap"
	"gorm.io/gorm"

	"pixshare/platform/database"
	"pixshare/platform/pubsub"
)

// RelayConfig is read from the environment.
type RelayConfig struct {
	// Interval is how often the relay looks for rows when not nudged.
	Interval time.Duration `env:"OUTBOX_INTERVAL" envDefault:"1s"`
	// Batch is the most rows published per round.
	Batch int `env:"OUTBOX_BATCH" envDefault:"100"`
	// Retention is how long published rows are kept before cleanup.
	Retention time.Duration `env:"OUTBOX_RETENTION" envDefault:"24h"`
	// MaxBackoff caps the wait between attempts while the broker is down.
	MaxBackoff time.Duration `env:"OUTBOX_MAX_BACKOFF" envDefault:"10s"`
	// Paused holds publishing (fault tests kill the service between
	// commit and publish with it).
	Paused bool `env:"OUTBOX_PAUSED" envDefault:"false"`
}

// Relay publishes outbox rows in id order and marks them published.
type Relay struct {
	db     *gorm.DB
	pub    pubsub.Publisher
	cfg    RelayConfig
	logger *zap.Logger
	nudge  chan struct{}
}

// NewRelay returns a relay over db publishing with pub. It hooks db so that
// every transaction (database.Transact) that enqueues an event wakes the
// relay once it has committed: events leave at once, and no use case has to
// remember to say so.
func NewRelay(db *gorm.DB, pub pubsub.Publisher, cfg RelayConfig, logger *zap.Logger) *Relay {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	r := &Relay{db: db, pub: pub, cfg: cfg, logger: logger.Named("outbox"), nudge: make(chan struct{}, 1)}
	err := db.Callback().Create().After("gorm:create").Register("outbox:wake", func(tx *gorm.DB) {
		if tx.Error == nil && tx.Statement.Table == tableName {
			database.OnCommit(tx, r.Notify)
		}
	})
	if err != nil {
		// Only a second relay on the same db can fail here; it still polls.
		r.logger.Warn("outbox relay not woken by commits", zap.Error(err))
	}
	return r
}

// Notify wakes the relay, so events leave at once rather than at the next
// tick. It never blocks.
func (r *Relay) Notify() {
	select {
	case r.nudge <- struct{}{}:
	default:
	}
}

// Run publishes until ctx ends.
func (r *Relay) Run(ctx context.Context) {
	if r.cfg.Paused {
		r.logger.Warn("outbox relay paused by OUTBOX_PAUSED")
		<-ctx.Done()
		return
	}
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = 100 * time.Millisecond
	bo.MaxInterval = r.cfg.MaxBackoff
	bo.MaxElapsedTime = 0
	tick := time.NewTicker(r.cfg.Interval)
	defer tick.Stop()
	lastCleanup := time.Time{}
	for {
		n, err := r.Flush(ctx)
		wait := time.Duration(0)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			wait = bo.NextBackOff()
			r.logger.Warn("outbox publish failed; retrying", zap.Error(err), zap.Duration("retry_in", wait))
		case n == r.cfg.Batch:
			bo.Reset()
			continue // more rows are waiting
		default:
			bo.Reset()
		}
		if time.Since(lastCleanup) > time.Hour {
			r.cleanup(ctx)
			lastCleanup = time.Now()
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-r.nudge:
		case <-tick.C:
		}
	}
}

// Flush publishes one batch of pending rows in order and returns how many
// were published. It stops at the first failure so order is kept.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	var rows []Message
	err := r.db.WithContext(ctx).Where("published_at IS NULL").Order("id").Limit(r.cfg.Batch).Find(&rows).Error
	if err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	for i, m := range rows {
		if err := r.pub.Publish(ctx, m.Topic, m.asMessage()); err != nil {
			r.db.WithContext(context.WithoutCancel(ctx)).Model(&Message{}).Where("id = ?", m.ID).
				Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_error": truncate(err.Error(), 500)})
			return i, err
		}
		now := time.Now().UTC()
		if err := r.db.WithContext(context.WithoutCancel(ctx)).Model(&Message{}).Where("id = ?", m.ID).
			Updates(map[string]any{"published_at": now, "attempts": gorm.Expr("attempts + 1"), "last_error": ""}).Error; err != nil {
			// Published but not marked: it will be published again, which
			// consumers tolerate (same CloudEvent id).
			return i, fmt.Errorf("mark outbox row %s published: %w", m.ID, err)
		}
	}
	return len(rows), nil
}

func (r *Relay) cleanup(ctx context.Context) {
	cutoff := time.Now().Add(-r.cfg.Retention)
	res := r.db.WithContext(ctx).Where("published_at IS NOT NULL AND published_at < ?", cutoff).Delete(&Message{})
	if res.Error != nil {
		r.logger.Warn("outbox cleanup failed", zap.Error(res.Error))
		return
	}
	if res.RowsAffected > 0 {
		r.logger.Info("outbox cleaned", zap.Int64("rows", res.RowsAffected))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
