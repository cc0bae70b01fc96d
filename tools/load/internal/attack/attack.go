// Package attack runs one vegeta attack (open model: requests leave at the
// set rate whether or not earlier ones have answered, so a slow server
// shows as latency, not as a lower rate) and prints progress every second.
package attack

import (
	"context"
	"fmt"
	"io"
	"math"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Options describe an attack.
type Options struct {
	Name string
	// Rate is requests per second; 0 means as fast as Workers allow (a
	// closed loop of Workers concurrent requests, for ceilings).
	Rate     float64
	Duration time.Duration
	Targeter vegeta.Targeter
	// Workers is the initial number of workers; MaxWorkers bounds them
	// (0: vegeta's default, unbounded, which an open model needs).
	Workers, MaxWorkers uint64
	// MaxBody is how much of each answer is kept (the rest is read and
	// dropped, so latency covers the whole body).
	MaxBody int64
	Timeout time.Duration
	// Progress receives one line per second; nil prints nothing.
	Progress io.Writer
}

// Pacer returns the constant pacer of rate requests per second.
func Pacer(rate float64) vegeta.ConstantPacer {
	switch {
	case rate <= 0:
		return vegeta.ConstantPacer{} // infinite: bounded by the workers
	case rate == math.Trunc(rate):
		return vegeta.ConstantPacer{Freq: int(rate), Per: time.Second}
	default:
		// Freq is an integer: spread whole requests over a longer period.
		return vegeta.ConstantPacer{Freq: 1, Per: time.Duration(float64(time.Second) / rate)}
	}
}

// Run attacks until the duration has passed or ctx ends, and hands every
// result to onResult (from one goroutine). It returns how long the attack
// sent requests for.
func Run(ctx context.Context, o Options, onResult func(*vegeta.Result)) (time.Duration, error) {
	if o.Rate <= 0 && o.MaxWorkers == 0 {
		return 0, fmt.Errorf("attack %s: an unpaced attack needs MaxWorkers", o.Name)
	}
	opts := []func(*vegeta.Attacker){
		vegeta.KeepAlive(true),
		vegeta.Redirects(vegeta.NoFollow),
		vegeta.MaxBody(o.MaxBody),
	}
	if o.Timeout > 0 {
		opts = append(opts, vegeta.Timeout(o.Timeout))
	}
	if o.Workers > 0 {
		opts = append(opts, vegeta.Workers(o.Workers))
	}
	if o.MaxWorkers > 0 {
		opts = append(opts, vegeta.MaxWorkers(o.MaxWorkers))
	}
	atk := vegeta.NewAttacker(opts...)
	start := time.Now()
	results := atk.Attack(o.Targeter, Pacer(o.Rate), o.Duration, o.Name)

	var total, failed, lastTotal atomic.Int64
	done := make(chan struct{})
	if o.Progress != nil {
		go func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case now := <-tick.C:
					n := total.Load()
					fmt.Fprintf(o.Progress, "[%s] %3.0fs  requests %6d  errors %4d  rate %6.1f/s\n",
						o.Name, now.Sub(start).Seconds(), n, failed.Load(), float64(n-lastTotal.Swap(n)))
				}
			}
		}()
	}
	go func() {
		select {
		case <-ctx.Done():
			atk.Stop()
		case <-done:
		}
	}()
	for res := range results {
		total.Add(1)
		if res.Code == 0 || res.Code >= 400 {
			failed.Add(1)
		}
		onResult(res)
	}
	close(done)
	elapsed := time.Since(start)
	if o.Duration > 0 {
		elapsed = min(time.Since(start), o.Duration)
	}
	if err := ctx.Err(); err != nil {
		return elapsed, fmt.Errorf("attack %s: %w", o.Name, err)
	}
	return elapsed, nil
}
