package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"pixshare/platform/syncbuf"
)

func TestFormat(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l, err := NewWithWriter("user", Config{Level: "info"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hidden")
	l.Info("request served", zap.String(FieldRequestID, "r1"), zap.Int("status", 200))
	_ = l.Sync()

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 1 {
		t.Fatalf("want 1 line (debug filtered), got %d: %s", len(lines), buf.String())
	}
	var got map[string]any
	if err := json.Unmarshal(lines[0], &got); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	for _, key := range []string{"ts", "level", "service", "msg", "request_id", "status"} {
		if _, ok := got[key]; !ok {
			t.Errorf("missing field %q in %v", key, got)
		}
	}
	if got["service"] != "user" || got["level"] != "info" || got["msg"] != "request served" {
		t.Errorf("unexpected values: %v", got)
	}
}

func TestBadLevel(t *testing.T) {
	t.Parallel()
	if _, err := New("x", Config{Level: "loud"}); err == nil {
		t.Fatal("want an error for an unknown level")
	}
}

func TestContext(t *testing.T) {
	t.Parallel()
	base := zap.NewNop()
	if FromContext(context.Background(), base) != base {
		t.Fatal("want fallback without a logger in context")
	}
	scoped := zap.NewExample()
	if FromContext(WithContext(context.Background(), scoped), base) != scoped {
		t.Fatal("want the logger stored in context")
	}
}

// lines splits what was written into lines ([""] when nothing was).
func lines(b *syncbuf.Buffer) []string { return strings.Split(strings.TrimSpace(b.String()), "\n") }

// TestBufferedWritesWarningsAtOnce: a service's lines wait in its buffer,
// but a warning is written at once, after every line before it, and Sync
// (the app's stop) writes the rest.
func TestBufferedWritesWarningsAtOnce(t *testing.T) {
	t.Parallel()
	var out syncbuf.Buffer
	l, err := newLogger("post", Config{Level: "info"}, buffered(&out, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	req := l.With(zap.String(FieldRequestID, "r1"))
	req.Info("first")
	if got := lines(&out); len(got) != 1 || got[0] != "" {
		t.Fatalf("an info line was written at once: %q", got)
	}
	req.Warn("trouble")
	got := lines(&out)
	if len(got) != 2 || !strings.Contains(got[0], `"first"`) || !strings.Contains(got[1], `"trouble"`) || !strings.Contains(got[1], `"r1"`) {
		t.Fatalf("after a warning: %q, want the info line then the warning", got)
	}
	l.Info("last")
	_ = l.Sync()
	if got := lines(&out); len(got) != 3 || !strings.Contains(got[2], `"last"`) {
		t.Fatalf("after Sync: %q", got)
	}
}
