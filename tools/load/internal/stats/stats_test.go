package stats

import (
	"slices"
	"testing"
	"time"
)

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestPercentileNearestRank(t *testing.T) {
	t.Parallel()
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"median of odd count", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"median of even count is the lower middle", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p90 of 1..100", hundred, 90, 90 * time.Millisecond},
		{"p100 is the max", hundred, 100, 100 * time.Millisecond},
		{"tiny p is the min", hundred, 0.001, 1 * time.Millisecond},
		{"p99 of ten values is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p95 of twenty values", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 95, 19 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Fatalf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestDistributionSortsAndAverages(t *testing.T) {
	t.Parallel()
	d := Distribution(ms(40, 10, 30, 20))
	want := Latency{P50: 20, P90: 40, P95: 40, P99: 40, Max: 40, Mean: 25}
	if d != want {
		t.Fatalf("got %+v, want %+v", d, want)
	}
	if (Distribution(nil) != Latency{}) {
		t.Fatal("empty distribution is not zero")
	}
}

func TestSummarizeCountsErrorsAndStatuses(t *testing.T) {
	t.Parallel()
	samples := []Sample{
		{Latency: 10 * time.Millisecond, Code: 200},
		{Latency: 20 * time.Millisecond, Code: 200},
		{Latency: 30 * time.Millisecond, Code: 404, Error: "404 Not Found"},
		{Latency: 5 * time.Second, Code: 0, Error: "timeout"},
		{Latency: 40 * time.Millisecond, Code: 304},
	}
	s := Summarize(samples, 2*time.Second)
	if s.Requests != 5 || s.OK != 3 || s.Errors != 2 {
		t.Fatalf("requests/ok/errors = %d/%d/%d, want 5/3/2", s.Requests, s.OK, s.Errors)
	}
	if s.Throughput != 2.5 || s.Goodput != 1.5 {
		t.Fatalf("throughput %v goodput %v, want 2.5 and 1.5", s.Throughput, s.Goodput)
	}
	wantStatus := map[string]int{"200": 2, "404": 1, "0": 1, "304": 1}
	for k, v := range wantStatus {
		if s.Status[k] != v {
			t.Fatalf("status %s: %d, want %d (%v)", k, s.Status[k], v, s.Status)
		}
	}
	if s.TopErrors["timeout"] != 1 || s.TopErrors["404 Not Found"] != 1 {
		t.Fatalf("top errors %v", s.TopErrors)
	}
	if s.LatencyMs.Max != 5000 || s.LatencyMs.P50 != 30 {
		t.Fatalf("latency %+v", s.LatencyMs)
	}
}

func TestTopKeepsTheMostFrequent(t *testing.T) {
	t.Parallel()
	got := top(map[string]int{"a": 1, "b": 5, "c": 3, "d": 3}, 2)
	if len(got) != 2 || got["b"] != 5 || got["c"] != 3 {
		t.Fatalf("top = %v, want b and c (ties by name)", got)
	}
}

func TestRecorderAndWindows(t *testing.T) {
	t.Parallel()
	r := NewRecorder()
	r.Add("b", Sample{At: 100 * time.Millisecond, Latency: time.Millisecond, Code: 200})
	r.Add("a", Sample{At: 1500 * time.Millisecond, Latency: 3 * time.Millisecond, Code: 500})
	r.Add("a", Sample{At: 1600 * time.Millisecond, Latency: 5 * time.Millisecond, Code: 200})
	if got := r.Routes(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("routes %v", got)
	}
	if len(r.Samples("a")) != 2 || len(r.All()) != 3 {
		t.Fatal("lost samples")
	}
	w := Windows(r.All(), time.Second)
	if len(w) != 2 {
		t.Fatalf("%d windows, want 2", len(w))
	}
	if w[0].Requests != 1 || w[1].Requests != 2 || w[1].Errors != 1 || w[1].P50 != 3*time.Millisecond {
		t.Fatalf("windows %+v", w)
	}
}
