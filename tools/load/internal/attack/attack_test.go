package attack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestPacer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rate float64
		want vegeta.ConstantPacer
	}{
		{50, vegeta.ConstantPacer{Freq: 50, Per: time.Second}},
		{2, vegeta.ConstantPacer{Freq: 2, Per: time.Second}},
		{0.5, vegeta.ConstantPacer{Freq: 1, Per: 2 * time.Second}},
		{2.5, vegeta.ConstantPacer{Freq: 1, Per: 400 * time.Millisecond}},
		{0, vegeta.ConstantPacer{}},
	}
	for _, tt := range tests {
		if got := Pacer(tt.rate); got != tt.want {
			t.Errorf("Pacer(%v) = %+v, want %+v", tt.rate, got, tt.want)
		}
		if tt.rate > 0 {
			if got := Pacer(tt.rate).Rate(0); got < tt.rate*0.999 || got > tt.rate*1.001 {
				t.Errorf("Pacer(%v) paces %v/s", tt.rate, got)
			}
		}
	}
}

// A short attack on a loopback test server hands over every result and
// keeps roughly the rate.
func TestRunDeliversResults(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			http.Error(w, "no", http.StatusTeapot)
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	var n atomic.Int64
	tr := func(tgt *vegeta.Target) error {
		path := "/ok"
		if n.Add(1)%4 == 0 {
			path = "/bad"
		}
		*tgt = vegeta.Target{Method: "GET", URL: srv.URL + path}
		return nil
	}
	var codes []uint16
	elapsed, err := Run(context.Background(), Options{Name: "t", Rate: 100, Duration: 300 * time.Millisecond, Targeter: tr},
		func(r *vegeta.Result) { codes = append(codes, r.Code) })
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) < 20 || len(codes) > 40 {
		t.Fatalf("%d results in %s at 100/s", len(codes), elapsed)
	}
	teapots := 0
	for _, c := range codes {
		if c == http.StatusTeapot {
			teapots++
		}
	}
	if teapots == 0 {
		t.Fatal("no error status recorded")
	}
}

func TestRunRefusesAnUnboundedCeiling(t *testing.T) {
	t.Parallel()
	if _, err := Run(context.Background(), Options{Name: "t"}, func(*vegeta.Result) {}); err == nil {
		t.Fatal("an unpaced attack without MaxWorkers was accepted")
	}
}
