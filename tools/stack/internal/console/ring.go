package console

import "sync"

// Ring keeps the last n strings added to it.
type Ring struct {
	mu    sync.Mutex
	buf   []string
	next  int
	count int
}

// NewRing returns a Ring holding at most n lines (at least one).
func NewRing(n int) *Ring {
	return &Ring{buf: make([]string, max(n, 1))}
}

// Add records a line, dropping the oldest when full.
func (r *Ring) Add(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.next] = line
	r.next = (r.next + 1) % len(r.buf)
	r.count = min(r.count+1, len(r.buf))
}

// Lines returns a copy of the kept lines, oldest first.
func (r *Ring) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, r.count)
	start := (r.next - r.count + len(r.buf)) % len(r.buf)
	for i := range r.count {
		out = append(out, r.buf[(start+i)%len(r.buf)])
	}
	return out
}
