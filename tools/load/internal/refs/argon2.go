package refs

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexedwards/argon2id"
)

// Argon2Params are the user service's defaults (ARGON2_MEMORY_KIB,
// ARGON2_ITERATIONS; one lane): OWASP's argon2id recommendation.
var Argon2Params = argon2id.Params{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Argon2 is the raw password-hash rate: every login verifies one hash
// with these parameters, so it bounds logins per second.
type Argon2 struct {
	MemoryKiB  uint32  `json:"memory_kib"`
	Iterations uint32  `json:"iterations"`
	Lanes      uint8   `json:"lanes"`
	OneCoreMs  float64 `json:"ms_per_hash_one_goroutine"`
	Goroutines int     `json:"goroutines"`
	PerSecond  float64 `json:"hashes_per_s_all_goroutines"`
	Note       string  `json:"note"`
}

// RunArgon2 hashes for d on one goroutine, then for d on GOMAXPROCS.
func RunArgon2(d time.Duration) (Argon2, error) {
	p := Argon2Params
	out := Argon2{MemoryKiB: p.Memory, Iterations: p.Iterations, Lanes: p.Parallelism, Goroutines: runtime.GOMAXPROCS(0),
		Note: "github.com/alexedwards/argon2id CreateHash in this process (a login's ComparePasswordAndHash costs the same hash)"}
	n, err := hashFor(d, 1, &p)
	if err != nil {
		return out, err
	}
	out.OneCoreMs = d.Seconds() * 1000 / float64(n)
	n, err = hashFor(d, out.Goroutines, &p)
	if err != nil {
		return out, err
	}
	out.PerSecond = float64(n) / d.Seconds()
	return out, nil
}

func hashFor(d time.Duration, workers int, p *argon2id.Params) (int64, error) {
	var (
		n    atomic.Int64
		wg   sync.WaitGroup
		once sync.Once
		ferr error
	)
	end := time.Now().Add(d)
	for range workers {
		wg.Go(func() {
			for time.Now().Before(end) {
				if _, err := argon2id.CreateHash("correct horse battery", p); err != nil {
					once.Do(func() { ferr = fmt.Errorf("argon2id: %w", err) })
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return max(n.Load(), 1), ferr
}
