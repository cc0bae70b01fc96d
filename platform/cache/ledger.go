package cache

import (
	"context"
	"net/http"
	"sync"
)

// A Ledger holds the stamps one request has read, so that every check the
// request makes agrees on one reading and the store is asked once: the
// subjects wanted before the first read (Want) are read together with it.
type Ledger struct {
	store  StampStore
	mu     sync.Mutex
	want   []string
	stamps map[string]Stamp
}

type ledgerKey struct{}

// WithLedger returns ctx carrying a new ledger over store.
func WithLedger(ctx context.Context, store StampStore) context.Context {
	return context.WithValue(ctx, ledgerKey{}, &Ledger{store: store, stamps: map[string]Stamp{}})
}

// LedgerMiddleware gives every request a ledger.
func LedgerMiddleware(store StampStore) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(WithLedger(r.Context(), store)))
		})
	}
}

func ledgerOf(ctx context.Context) *Ledger {
	l, _ := ctx.Value(ledgerKey{}).(*Ledger)
	return l
}

// Want asks the request's ledger to read subjects along with its next
// read (a hint: a subject the request will need anyway, such as the author
// of the post it reads). Without a ledger it does nothing.
func Want(ctx context.Context, subjects ...string) {
	if l := ledgerOf(ctx); l != nil {
		l.mu.Lock()
		l.want = append(l.want, subjects...)
		l.mu.Unlock()
	}
}

// Current returns the subjects' stamps as the request sees them, reading
// what it has not read yet (and every wanted subject) in one call. Without
// a ledger in ctx it reads from store directly.
func Current(ctx context.Context, store StampStore, subjects ...string) []Stamp {
	l := ledgerOf(ctx)
	if l == nil {
		got := store.Read(ctx, subjects)
		out := make([]Stamp, len(subjects))
		for i, s := range subjects {
			out[i] = got[s]
		}
		return out
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var missing []string
	for _, s := range append(l.want, subjects...) {
		if _, ok := l.stamps[s]; !ok && !contains(missing, s) {
			missing = append(missing, s)
		}
	}
	l.want = nil
	if len(missing) > 0 {
		got := l.store.Read(ctx, missing)
		for _, s := range missing {
			l.stamps[s] = got[s]
		}
	}
	out := make([]Stamp, len(subjects))
	for i, s := range subjects {
		out[i] = l.stamps[s]
	}
	return out
}

// Forget drops subjects from the request's ledger, so the next Current
// reads them again (after the request itself changed them).
func Forget(ctx context.Context, subjects ...string) {
	if l := ledgerOf(ctx); l != nil {
		l.mu.Lock()
		for _, s := range subjects {
			delete(l.stamps, s)
		}
		l.mu.Unlock()
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
