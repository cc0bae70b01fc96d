package plots

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pixshare/tools/load/internal/stats"
	"pixshare/tools/load/internal/uploads"
)

func TestCDFKeepsExtremesAndBoundsPoints(t *testing.T) {
	t.Parallel()
	lat := make([]time.Duration, 1000)
	for i := range lat {
		lat[i] = time.Duration(1000-i) * time.Millisecond
	}
	xys := CDF(lat, 100)
	if len(xys) > 101 {
		t.Fatalf("%d points, want at most 101", len(xys))
	}
	if first, last := xys[0], xys[len(xys)-1]; first.X != 1 || last.X != 1000 || last.Y != 1 {
		t.Fatalf("first %v last %v", first, last)
	}
	for i := 1; i < len(xys); i++ {
		if xys[i].X < xys[i-1].X || xys[i].Y <= xys[i-1].Y {
			t.Fatalf("not increasing at %d: %v %v", i, xys[i-1], xys[i])
		}
	}
	if CDF(nil, 10) != nil {
		t.Fatal("points for no data")
	}
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.DecodeConfig(f); err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
}

func TestPlotsWritePNGs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var series []Series
	for _, route := range []string{"feed", "post", "image_thumb", "login"} {
		var s []stats.Sample
		for i := range 200 {
			code := 200
			if i%50 == 0 {
				code = 503
			}
			s = append(s, stats.Sample{At: time.Duration(i) * 50 * time.Millisecond, Latency: time.Duration(1+i%37) * time.Millisecond, Code: code})
		}
		series = append(series, Series{Route: route, Samples: s})
	}
	if err := LatencyOverTime(filepath.Join(dir, "t.png"), "title", series, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, filepath.Join(dir, "t.png"))
	if err := LatencyCDF(filepath.Join(dir, "c.png"), "title", series); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, filepath.Join(dir, "c.png"))
	ups := []uploads.Sample{
		{At: time.Second, Outcome: "ready", ReadyAfter: 900 * time.Millisecond},
		{At: 2 * time.Second, Outcome: "ready", ReadyAfter: 1300 * time.Millisecond},
		{At: 3 * time.Second, Outcome: "timeout"},
	}
	if err := UploadReady(filepath.Join(dir, "u.png"), "title", ups, 800); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, filepath.Join(dir, "u.png"))
}

func TestTicks125(t *testing.T) {
	t.Parallel()
	var got []float64
	for _, tk := range (Ticks125{}).Ticks(3, 60) {
		got = append(got, tk.Value)
	}
	want := []float64{5, 10, 20, 50}
	if len(got) != len(want) {
		t.Fatalf("ticks %v, want %v", got, want)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("ticks %v, want %v", got, want)
		}
	}
	if (Ticks125{}).Ticks(0, 10) != nil {
		t.Fatal("ticks on a range reaching zero")
	}
}
