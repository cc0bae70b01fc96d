package uploads

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pixshare/tools/load/internal/api"
)

func TestNsPerOp(t *testing.T) {
	t.Parallel()
	out := `goos: linux
goarch: amd64
pkg: pixshare/workers/internal/adapters/thumbnail
cpu: Intel(R) Xeon(R) CPU
BenchmarkGenerate/large-12mp.jpg-2         	       3	 812345678 ns/op	   4.93 MB/s	        14.8 MP/s
BenchmarkGenerate/other.jpg-2         	       3	 187654322 ns/op	   4.93 MB/s
PASS
ok  	pixshare/workers/internal/adapters/thumbnail	9.1s
`
	got, err := NsPerOp(out, "BenchmarkGenerate/")
	if err != nil {
		t.Fatal(err)
	}
	if got != 500000000 {
		t.Fatalf("mean ns/op %v, want 5e8", got)
	}
	if _, err := NsPerOp("PASS\n", "BenchmarkGenerate/"); err == nil {
		t.Fatal("no benchmark line, no error")
	}
}

func TestSummarizeSplitsOutcomes(t *testing.T) {
	t.Parallel()
	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	samples := []Sample{
		{At: ms(0), Code: 202, Upload: ms(100), Outcome: "ready", ReadyAfter: ms(900)},
		{At: ms(600), Code: 202, Upload: ms(300), Outcome: "ready", ReadyAfter: ms(1100)},
		{Code: 202, Upload: ms(200), Outcome: "failed"},
		{Code: 202, Upload: ms(200), Outcome: "timeout"},
		{Code: 413, Upload: ms(5), Outcome: "upload 413"},
	}
	r := summarize(samples, Config{Rate: 2, Poll: 50 * time.Millisecond})
	if r.Sent != 5 || r.Accepted != 4 || r.Ready != 2 || r.Failed != 1 || r.TimedOut != 1 {
		t.Fatalf("counts %+v", r)
	}
	if r.ReadyAfter202Ms.P50 != 900 || r.ReadyAfter202Ms.P95 != 1100 {
		t.Fatalf("ready after 202 %+v", r.ReadyAfter202Ms)
	}
	if r.FirstReadyAfterMs != 900 {
		t.Fatalf("first upload ready after %v ms, want 900", r.FirstReadyAfterMs)
	}
	if r.ReadyPerS != 1 { // 2 ready between 0 and 2 s
		t.Fatalf("ready per second %v, want 1", r.ReadyPerS)
	}
	if r.ReadyAfterSendMs.Max != 1400 || r.Status["413"] != 1 || r.PollMs != 50 {
		t.Fatalf("%+v", r)
	}
}

func TestNextPollKeepsFivePercentResolution(t *testing.T) {
	t.Parallel()
	floor := 50 * time.Millisecond
	tests := []struct{ elapsed, want time.Duration }{
		{0, floor},
		{500 * time.Millisecond, floor},
		{time.Second, floor},
		{2 * time.Second, 100 * time.Millisecond},
		{20 * time.Second, time.Second},
	}
	for _, tt := range tests {
		if got := NextPoll(floor, tt.elapsed); got != tt.want {
			t.Errorf("NextPoll(%v, %v) = %v, want %v", floor, tt.elapsed, got, tt.want)
		}
	}
}

func TestSampleJSONIsInMilliseconds(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Sample{At: 1500 * time.Millisecond, Upload: 250 * time.Millisecond, Code: 202, Outcome: "ready", ReadyAfter: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"sent_at_ms":1500,"upload_ms":250,"code":202,"outcome":"ready","ready_after_202_ms":2000}`
	if string(b) != want {
		t.Fatalf("%s, want %s", b, want)
	}
	b, err = json.Marshal(Sample{Code: 202, Outcome: "ready", PostID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"sent_at_ms":0,"upload_ms":0,"code":202,"outcome":"ready","ready_after_202_ms":0,"post_id":"p1"}`; string(b) != want {
		t.Fatalf("%s, want %s", b, want)
	}
}

// TestPollAsksTheServerToWait reads against a stand-in for the post
// service (the real one's waiting is tested in post/internal/service): a
// server that waits is asked again at once, one that does not is polled.
func TestPollAsksTheServerToWait(t *testing.T) {
	for _, applies := range []bool{true, false} {
		var reads atomic.Int64
		var prefers sync.Map
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := reads.Add(1)
			prefers.Store(r.Header.Get("Prefer"), true)
			if applies {
				w.Header().Set("Preference-Applied", "wait=5")
			}
			status := "processing"
			if n == 3 {
				status = "ready"
			}
			fmt.Fprintf(w, `{"id":"p1","status":%q}`, status)
		}))
		defer srv.Close()
		var counts readCounts
		cfg := Config{Poll: time.Millisecond, Wait: 5 * time.Second, ReadyTimeout: time.Minute}
		outcome, _ := poll(t.Context(), api.New(srv.URL), "token", "p1", time.Now(), cfg, &counts)
		if outcome != "ready" || reads.Load() != 3 || counts.sent.Load() != 3 {
			t.Fatalf("server applies wait=%v: outcome %q after %d reads (%d counted), want ready after 3", applies, outcome, reads.Load(), counts.sent.Load())
		}
		if want := map[bool]int64{true: 3, false: 0}[applies]; counts.waited.Load() != want {
			t.Fatalf("server applies wait=%v: %d reads counted as waited for, want %d", applies, counts.waited.Load(), want)
		}
		prefers.Range(func(k, _ any) bool {
			if k != "wait=5" {
				t.Fatalf("a read asked Prefer %q, want wait=5", k)
			}
			return true
		})
	}
}
