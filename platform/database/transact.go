package database

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"pixshare/platform/apperror"
)

// Transact runs fn in a transaction, retrying it when the database aborted
// it for a reason a retry fixes (a PostgreSQL deadlock or serialization
// failure, SQLite still busy after its timeout). fn must be safe to run
// again: it sees none of the aborted attempt's writes.
//
// A database that cannot be reached at all is an Unavailable error (503),
// not an internal one.
//
// Functions registered with OnCommit during the attempt that committed run
// after the commit, in order; an aborted attempt's are dropped.
func Transact(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	bo := backoff.WithContext(backoff.WithMaxRetries(newBackoff(), 5), ctx)
	var committed *afterCommit
	err := backoff.Retry(func() error {
		hooks := &afterCommit{}
		err := db.WithContext(context.WithValue(ctx, afterCommitKey{}, hooks)).Transaction(fn)
		if err == nil {
			committed = hooks
			return nil
		}
		if retryable(err) {
			return err
		}
		return backoff.Permanent(Classify(err))
	}, bo)
	if err == nil && committed != nil {
		for _, f := range committed.funcs {
			f()
		}
	}
	return err
}

type afterCommitKey struct{}

// afterCommit holds one attempt's OnCommit functions.
type afterCommit struct{ funcs []func() }

// OnCommit runs f once the transaction tx belongs to has committed (a
// transaction of Transact). Outside Transact it runs f at once: there is no
// commit to wait for.
func OnCommit(tx *gorm.DB, f func()) {
	if tx.Statement != nil && tx.Statement.Context != nil {
		if hooks, ok := tx.Statement.Context.Value(afterCommitKey{}).(*afterCommit); ok {
			hooks.funcs = append(hooks.funcs, f)
			return
		}
	}
	f()
}

func newBackoff() *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 10 * time.Millisecond
	b.MaxInterval = 200 * time.Millisecond
	return b
}

func retryable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "40P01" || pg.Code == "40001"
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

// Classify maps errors that mean "the database is not there" to
// Unavailable and leaves every other error as it is.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := apperror.As(err); ok {
		return err
	}
	// A failure to connect at all (refused, the database not accepting
	// connections, authentication) comes first: it may wrap a PgError.
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return apperror.Wrap(apperror.Unavailable, err, "database unavailable")
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// Class 08: connection exception; 57P0x: server shutting down or
		// the connection terminated by an administrator; 55000: the
		// database is not accepting connections.
		if strings.HasPrefix(pg.Code, "08") || strings.HasPrefix(pg.Code, "57P") || pg.Code == "55000" {
			return apperror.Wrap(apperror.Unavailable, err, "database unavailable")
		}
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "bad connection") ||
		strings.Contains(err.Error(), "unable to open database") || strings.Contains(err.Error(), "database is locked") {
		return apperror.Wrap(apperror.Unavailable, err, "database unavailable")
	}
	return err
}
