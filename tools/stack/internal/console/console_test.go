package console

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestStreamPrefixesEveryLine(t *testing.T) {
	var out bytes.Buffer
	c := New(&out, false, []string{"user", "user.dapr"})
	app := c.Stream("user", Style{}, 40)
	dapr := c.Stream("user.dapr", Style{Dim: true}, 40)

	app.Pump(strings.NewReader("listening\r\nready\npartial"))
	dapr.Pump(strings.NewReader("level=info msg=up\n"))
	c.Printf("ready: http://127.0.0.1:8080")

	want := "user      │ listening\n" +
		"user      │ ready\n" +
		"user      │ partial\n" +
		"user.dapr │ level=info msg=up\n" +
		"ready: http://127.0.0.1:8080\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if got := app.Lines(); !reflect.DeepEqual(got, []string{"listening", "ready", "partial"}) {
		t.Errorf("ring = %q", got)
	}
}

func TestStreamColourOnlyWhenAsked(t *testing.T) {
	var out bytes.Buffer
	c := New(&out, true, []string{"gateway.dapr"})
	c.Stream("gateway", Style{Colour: 1}, 1).Pump(strings.NewReader("x\n"))
	c.Stream("gateway.dapr", Style{Colour: 1, Dim: true}, 1).Pump(strings.NewReader("y\n"))
	want := "\x1b[33mgateway      │ \x1b[0mx\n\x1b[2;33mgateway.dapr │ \x1b[0my\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestTeeGetsEveryLineWithoutColour(t *testing.T) {
	var out, tee bytes.Buffer
	c := New(&out, true, []string{"thumbnailer"})
	c.Stream("early", Style{}, 1).Pump(strings.NewReader("before the tee\n"))
	c.Tee(&tee)
	c.Stream("thumbnailer", Style{Colour: 2}, 5).Pump(strings.NewReader(`{"msg":"thumbnails made"}` + "\n"))
	c.Printf("ready: http://127.0.0.1:8080")
	c.PrintLines("thumbnailer", Style{Colour: 2}, []string{"a", "b"})
	want := "thumbnailer │ {\"msg\":\"thumbnails made\"}\n" +
		"ready: http://127.0.0.1:8080\n" +
		"thumbnailer │ a\nthumbnailer │ b\n"
	if tee.String() != want {
		t.Errorf("tee got %q, want %q", tee.String(), want)
	}
	if !strings.Contains(out.String(), "\x1b[35mthumbnailer │ \x1b[0m{") || !strings.Contains(out.String(), "before the tee") {
		t.Errorf("console lost its colour or a line: %q", out.String())
	}
}

func TestStreamSplitsHugeLines(t *testing.T) {
	var out bytes.Buffer
	c := New(&out, false, []string{"a"})
	s := c.Stream("a", Style{}, 5)
	s.Pump(strings.NewReader(strings.Repeat("x", maxLine+10) + "\n"))
	lines := s.Lines()
	if len(lines) != 2 || len(lines[0]) != maxLine || lines[1] != strings.Repeat("x", 10) {
		t.Errorf("got %d lines of lengths %v", len(lines), lens(lines))
	}
}

func TestConcurrentStreamsNeverInterleave(t *testing.T) {
	var out bytes.Buffer
	c := New(&out, false, []string{"a", "b"})
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr, pw := io.Pipe()
			go func() {
				for i := range 500 {
					fmt.Fprintf(pw, "%s-%d-%s\n", name, i, strings.Repeat(name, 100))
				}
				pw.Close()
			}()
			c.Stream(name, Style{}, 10).Pump(pr)
		}()
	}
	wg.Wait()
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		name := l[:1]
		if !strings.HasPrefix(l, name+" │ "+name+"-") || !strings.HasSuffix(l, strings.Repeat(name, 100)) {
			t.Fatalf("mangled line %q", l)
		}
	}
}

func TestRingKeepsLastLines(t *testing.T) {
	r := NewRing(3)
	if got := r.Lines(); len(got) != 0 {
		t.Errorf("empty ring = %q", got)
	}
	for i := range 7 {
		r.Add(fmt.Sprint(i))
	}
	if got := r.Lines(); !reflect.DeepEqual(got, []string{"4", "5", "6"}) {
		t.Errorf("ring = %q", got)
	}
	r2 := NewRing(40)
	r2.Add("only")
	if got := r2.Lines(); !reflect.DeepEqual(got, []string{"only"}) {
		t.Errorf("ring = %q", got)
	}
}

func lens(ss []string) []int {
	out := make([]int, len(ss))
	for i, s := range ss {
		out[i] = len(s)
	}
	return out
}

// writeCounter records each write it is given.
type writeCounter struct {
	mu     sync.Mutex
	writes []string
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

// TestStreamWritesABatchAtOnce: the whole lines one read brings are
// printed in one write, prefixed each; a line still being written waits
// for its end.
func TestStreamWritesABatchAtOnce(t *testing.T) {
	var w writeCounter
	s := New(&w, false, []string{"post"}).Stream("post", Style{}, 10)
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() { s.Pump(pr); close(done) }()
	if _, err := pw.Write([]byte("one\ntwo\nthree\nhal")); err != nil {
		t.Fatal(err)
	}
	if _, err := pw.Write([]byte("f\n")); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	<-done
	want := []string{"post │ one\npost │ two\npost │ three\n", "post │ half\n"}
	if !reflect.DeepEqual(w.writes, want) {
		t.Fatalf("writes = %q, want %q", w.writes, want)
	}
}
