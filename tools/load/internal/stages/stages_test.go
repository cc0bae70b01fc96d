package stages

import (
	"os"
	"strings"
	"testing"
	"time"
)

// testdata/stack.log is an excerpt of the launcher's log of a real run
// (bin/stack, then tools/load -duration 5s -ceiling): its first lines,
// every "thumbnails made" line (60 seeded posts, 6 uploads of the mix, 10
// of the upload phase) and everything the stack printed during the upload
// phase (gateway and post access lines, polls), in the order written.
const realLog = "testdata/stack.log"

// The upload phase of that run: post id → 202 → ready as the tool saw it
// (results.json).
var realUploads = []Upload{
	{"01a24a2b-2e38-7d1e-8306-e40fa2956681", ms(712.869191)},
	{"01a24a2b-302d-77f4-a91b-1e4b36c8ed52", ms(771.353452)},
	{"01a24a2b-321e-7ba5-94ce-6797f2ed1178", ms(1088.06006)},
	{"01a24a2b-3415-7335-b8ce-d9a80571915e", ms(1195.611209)},
	{"01a24a2b-360f-7900-a414-6a754ee14c8e", ms(1366.344115)},
	{"01a24a2b-37f9-72c1-9a09-71155f5e33ad", ms(1589.648427)},
	{"01a24a2b-39fe-7cc8-8776-7898144627c8", ms(1691.173395)},
	{"01a24a2b-3be1-74e8-accc-62f39b69595c", ms(1792.69162)},
	{"01a24a2b-3de2-7732-ad1d-abc6c7b41474", ms(2050.697282)},
	{"01a24a2b-3fce-7929-852a-c90c99f96265", ms(1955.162788)},
}

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

func TestParseTheLaunchersLog(t *testing.T) {
	t.Parallel()
	log, err := ReadFile(realLog)
	if err != nil {
		t.Fatal(err)
	}
	if log.Read != 703 || log.Made != 76 || len(log.Lines) != 76 || log.Duplicates != 0 || log.Unusable != 0 {
		t.Fatalf("read %d lines, %d made, %d posts, %d duplicates, %d unusable", log.Read, log.Made, len(log.Lines), log.Duplicates, log.Unusable)
	}
	// thumbnailer │ {…"post_id":"01a24a2b-3de2-…","version":1,…,"fetch":127,"generate":429,"store":94,"report":4,"queued":1316}
	got := log.Lines["01a24a2b-3de2-7732-ad1d-abc6c7b41474"]
	want := Line{PostID: "01a24a2b-3de2-7732-ad1d-abc6c7b41474", Version: 1, Service: "thumbnailer", Prefix: "thumbnailer",
		At:     time.Date(2026, 12, 6, 7, 4, 39, 693e6, time.UTC),
		Queued: 1316 * time.Millisecond, Fetch: 127 * time.Millisecond, Generate: 429 * time.Millisecond, Store: 94 * time.Millisecond, Report: 4 * time.Millisecond}
	if !got.At.Equal(want.At) {
		t.Errorf("at %v, want %v", got.At, want.At)
	}
	got.At = want.At
	if got != want {
		t.Errorf("line\n got %+v\nwant %+v", got, want)
	}
	if got.Total() != 1970*time.Millisecond {
		t.Errorf("total %v", got.Total())
	}
	for _, u := range realUploads {
		if _, ok := log.Lines[u.PostID]; !ok {
			t.Errorf("no line for upload %s", u.PostID)
		}
	}
}

// realLine is the log's line of one post.
func realLine(t *testing.T, postID string) string {
	t.Helper()
	b, err := os.ReadFile(realLog)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, Message) && strings.Contains(l, postID) {
			return l
		}
	}
	t.Fatalf("no line of %s", postID)
	return ""
}

func TestParseOtherShapesOfTheSameLine(t *testing.T) {
	t.Parallel()
	line := realLine(t, "01a24a2b-3de2-7732-ad1d-abc6c7b41474")
	_, bare, _ := strings.Cut(line, separator)
	_, other, _ := strings.Cut(realLine(t, "01a24a2b-3fce-7929-852a-c90c99f96265"), separator)
	coloured := "\x1b[35mthumbnailer-2 │ \x1b[0m" + other
	text := strings.Join([]string{
		bare,     // as the app prints it (a Dapr CLI log file)
		line,     // the same post again: a redelivered request
		coloured, // a console capture, from a replica
		`thumbnailer │ {"level":"info","msg":"thumbnails made","post_id":"p-no-queued","fetch":1,"generate":2,"store":3,"report":4}`,
		`thumbnailer │ {"level":"info","msg":"thumbnails made","post_id":"p-strings","fetch":"20ms","generate":"1.5s","store":"3ms","report":"4ms","queued":"0s"}`,
		`thumbnailer │ thumbnails made, but not JSON`,
		`gateway │ {"level":"info","msg":"request","path":"/v1/posts/x"}`,
		"no newline at the end",
	}, "\n")
	log, err := Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if log.Read != 8 || log.Made != 5 || log.Duplicates != 1 || log.Unusable != 1 || len(log.Lines) != 3 {
		t.Fatalf("%+v", log)
	}
	if l := log.Lines["01a24a2b-3de2-7732-ad1d-abc6c7b41474"]; l.Prefix != "" || l.Queued != 1316*time.Millisecond {
		t.Errorf("bare line: %+v", l)
	}
	if l := log.Lines["01a24a2b-3fce-7929-852a-c90c99f96265"]; l.Prefix != "thumbnailer-2" || l.Queued != 1412*time.Millisecond {
		t.Errorf("coloured line: %+v", l)
	}
	if l := log.Lines["p-strings"]; l.Generate != 1500*time.Millisecond || l.Total() != 1527*time.Millisecond {
		t.Errorf("durations as strings: %+v", l)
	}
}

func TestExplainTheRealRun(t *testing.T) {
	t.Parallel()
	log, err := ReadFile(realLog)
	if err != nil {
		t.Fatal(err)
	}
	ups := append(realUploads[:len(realUploads):len(realUploads)], Upload{PostID: "not-in-the-log", ReadyAfter: time.Hour})
	b := Explain(ups, log, realLog)
	if b.Uploads != 11 || b.Matched != 10 || b.MadeLines != 76 || b.Source != realLog {
		t.Fatalf("%+v", b)
	}
	// Nearest-rank percentiles over the ten uploads' values (worked out
	// from the log lines by hand).
	want := map[string][3]float64{
		Queued: {689, 1412, 1412}, Fetch: {32, 127, 127}, Generate: {429, 553, 553}, Store: {97, 163, 163}, Report: {5, 54, 54},
		Thumbnailer: {1397, 1970, 1970}, Rest: {16.869191, 80.697282, 80.697282}, ReadyAfter: {1366.344115, 2050.697282, 2050.697282},
	}
	if len(b.Stages) != len(want) {
		t.Fatalf("stages %+v", b.Stages)
	}
	for i, name := range []string{Queued, Fetch, Generate, Store, Report, Thumbnailer, Rest, ReadyAfter} {
		s := b.Stages[i]
		w := want[name]
		if s.Name != name || !near(s.Ms.P50, w[0]) || !near(s.Ms.P95, w[1]) || !near(s.Ms.Max, w[2]) || s.Meaning == "" {
			t.Errorf("stage %d: got %s %.6f/%.6f/%.6f, want %s %v", i, s.Name, s.Ms.P50, s.Ms.P95, s.Ms.Max, name, w)
		}
	}
	// The p50 upload: ready 1366 ms after its 202, of which 1397 ms
	// were the thumbnailer's: ready was seen 31 ms "early", since the
	// commit came before the 202 reached the tool.
	p50, p95, top := b.Examples[0], b.Examples[1], b.Examples[2]
	if p50.Label != "p50" || p50.PostID != "01a24a2b-360f-7900-a414-6a754ee14c8e" || p50.QueuedMs != 689 || p50.GenerateMs != 553 ||
		p50.ReportMs != 54 || p50.ThumbnailerMs != 1397 || !near(p50.RestMs, 1366.344115-1397) {
		t.Errorf("p50 example %+v", p50)
	}
	// With ten uploads the p95 is the slowest, as the max.
	for _, e := range []Example{p95, top} {
		if e.PostID != "01a24a2b-3de2-7732-ad1d-abc6c7b41474" || e.QueuedMs != 1316 || e.FetchMs != 127 || e.StoreMs != 94 ||
			!near(e.ReadyAfterMs, 2050.697282) || !near(e.RestMs, 80.697282) {
			t.Errorf("%s example %+v", e.Label, e)
		}
	}
	if p95.Label != "p95" || top.Label != "max" {
		t.Errorf("labels %s %s", p95.Label, top.Label)
	}
	// Each example adds up: its stages and rest are its 202 → ready.
	for _, e := range b.Examples {
		if sum := e.QueuedMs + e.FetchMs + e.GenerateMs + e.StoreMs + e.ReportMs + e.RestMs; !near(sum, e.ReadyAfterMs) {
			t.Errorf("%s: stages add up to %.3f, not %.3f", e.Label, sum, e.ReadyAfterMs)
		}
	}
}

func TestExplainWithoutMatches(t *testing.T) {
	t.Parallel()
	b := Explain([]Upload{{PostID: "x", ReadyAfter: time.Second}}, Log{Lines: map[string]Line{}, Read: 3}, "l")
	if b.Matched != 0 || b.Uploads != 1 || b.LogLines != 3 || b.Stages != nil || b.Examples != nil {
		t.Fatalf("%+v", b)
	}
}

func TestReadFileMissing(t *testing.T) {
	t.Parallel()
	if _, err := ReadFile("testdata/none.log"); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("err %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func near(a, b float64) bool { return a-b < 1e-3 && b-a < 1e-3 }
