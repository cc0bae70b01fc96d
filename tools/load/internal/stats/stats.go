// Package stats turns recorded requests into the numbers the report shows:
// exact percentiles (nearest rank, no sketch), throughput, errors and a
// status histogram, overall and per second.
package stats

import (
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Sample is one finished request.
type Sample struct {
	// At is when the request was sent, from the start of the phase.
	At      time.Duration
	Latency time.Duration
	// Code is the HTTP status, 0 when no response arrived.
	Code  int
	Error string
}

// Failed reports whether the sample counts as an error: no response, or a
// status of 400 or more.
func (s Sample) Failed() bool { return s.Code == 0 || s.Code >= 400 }

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values
// at or below it. It returns 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Ms converts d to milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Distribution summarises latencies (in any order; the slice is sorted in
// place).
func Distribution(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Latency{
		P50: Ms(Percentile(ds, 50)), P90: Ms(Percentile(ds, 90)), P95: Ms(Percentile(ds, 95)),
		P99: Ms(Percentile(ds, 99)), Max: Ms(ds[len(ds)-1]), Mean: Ms(sum / time.Duration(len(ds))),
	}
}

// Summary is what the report says about a set of samples.
type Summary struct {
	Requests int `json:"requests"`
	// Throughput counts every finished request per second of the phase.
	Throughput float64 `json:"throughput_rps"`
	// OK counts answers below 400, and Goodput is their rate.
	OK      int     `json:"ok"`
	Goodput float64 `json:"goodput_rps"`
	Errors  int     `json:"errors"`
	// LatencyMs covers every request, failed ones included.
	LatencyMs Latency        `json:"latency_ms"`
	Status    map[string]int `json:"status"`
	// TopErrors holds up to five distinct error texts with their counts.
	TopErrors map[string]int `json:"top_errors,omitempty"`
}

// Summarize describes samples taken over a phase that lasted elapsed.
func Summarize(samples []Sample, elapsed time.Duration) Summary {
	s := Summary{Requests: len(samples), Status: map[string]int{}}
	lat := make([]time.Duration, 0, len(samples))
	errs := map[string]int{}
	for _, x := range samples {
		lat = append(lat, x.Latency)
		s.Status[strconv.Itoa(x.Code)]++
		if x.Failed() {
			s.Errors++
			if x.Error != "" {
				errs[x.Error]++
			}
		} else {
			s.OK++
		}
	}
	if elapsed > 0 {
		s.Throughput = float64(s.Requests) / elapsed.Seconds()
		s.Goodput = float64(s.OK) / elapsed.Seconds()
	}
	s.LatencyMs = Distribution(lat)
	s.TopErrors = top(errs, 5)
	return s
}

// top keeps the n most frequent keys (ties broken by key, for stable output).
func top(m map[string]int, n int) map[string]int {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		if a < b {
			return -1
		}
		return 1
	})
	out := map[string]int{}
	for _, k := range keys[:min(n, len(keys))] {
		out[k] = m[k]
	}
	return out
}

// Recorder collects samples by route; it is safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	routes map[string][]Sample
	order  []string
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{routes: map[string][]Sample{}} }

// Add records a sample of route.
func (r *Recorder) Add(route string, s Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.routes[route]; !ok {
		r.order = append(r.order, route)
	}
	r.routes[route] = append(r.routes[route], s)
}

// Routes returns the routes seen, sorted.
func (r *Recorder) Routes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.order)
	slices.Sort(out)
	return out
}

// Samples returns a copy of route's samples in arrival order.
func (r *Recorder) Samples(route string) []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.routes[route])
}

// All returns a copy of every sample.
func (r *Recorder) All() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Sample
	for _, route := range r.order {
		out = append(out, r.routes[route]...)
	}
	return out
}

// Window is one second (or another step) of a phase.
type Window struct {
	Start    time.Duration
	Requests int
	Errors   int
	P50      time.Duration
}

// Windows buckets samples by their send time into steps of width step.
func Windows(samples []Sample, step time.Duration) []Window {
	if len(samples) == 0 || step <= 0 {
		return nil
	}
	var last time.Duration
	for _, s := range samples {
		last = max(last, s.At)
	}
	n := int(last/step) + 1
	lat := make([][]time.Duration, n)
	out := make([]Window, n)
	for i := range out {
		out[i].Start = time.Duration(i) * step
	}
	for _, s := range samples {
		i := int(s.At / step)
		out[i].Requests++
		if s.Failed() {
			out[i].Errors++
		}
		lat[i] = append(lat[i], s.Latency)
	}
	for i := range out {
		slices.Sort(lat[i])
		out[i].P50 = Percentile(lat[i], 50)
	}
	return out
}
