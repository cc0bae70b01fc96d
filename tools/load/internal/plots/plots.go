// Package plots draws the PNGs of a load run with gonum.org/v1/plot:
// latency over time per route, latency distribution (CDF) per route, and
// upload→ready against the compute time.
package plots

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"pixshare/tools/load/internal/stats"
	"pixshare/tools/load/internal/uploads"
)

// Series is one route's samples.
type Series struct {
	Route   string
	Samples []stats.Sample
}

var (
	errorColor = color.RGBA{R: 220, G: 30, B: 30, A: 255}
	okColor    = color.NRGBA{R: 40, G: 90, B: 200, A: 150}
	lineColor  = color.RGBA{A: 255}
)

// minMs keeps log axes away from zero.
const minMs = 0.01

func ms(d time.Duration) float64 { return max(stats.Ms(d), minMs) }

func logY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = Ticks125{}
}

// Ticks125 marks a log axis at 1, 2 and 5 times each power of ten, so a
// range narrower than a decade still has labels.
type Ticks125 struct{}

// Ticks implements plot.Ticker.
func (Ticks125) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= lo {
		return nil
	}
	var out []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v >= lo*0.999 && v <= hi*1.001 {
				out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
			}
		}
	}
	return out
}

// LatencyOverTime draws one panel per route: every request (red when it
// failed) at its send time, and the median of each second.
// The x axes of all panels span [0, span].
func LatencyOverTime(path, title string, series []Series, span time.Duration) error {
	if len(series) == 0 {
		return nil
	}
	const cols = 3
	rows := (len(series) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
	}
	for i, s := range series {
		p := plot.New()
		p.Title.Text = s.Route
		p.X.Label.Text = "s"
		p.Y.Label.Text = "ms"
		p.X.Min, p.X.Max = 0, span.Seconds()
		logY(p)
		var ok, bad plotter.XYs
		for _, x := range s.Samples {
			pt := plotter.XY{X: x.At.Seconds(), Y: ms(x.Latency)}
			if x.Failed() {
				bad = append(bad, pt)
			} else {
				ok = append(ok, pt)
			}
		}
		for _, pts := range []struct {
			xys plotter.XYs
			c   color.Color
		}{{ok, okColor}, {bad, errorColor}} {
			if len(pts.xys) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(pts.xys)
			if err != nil {
				return fmt.Errorf("plot %s: %w", s.Route, err)
			}
			sc.GlyphStyle.Radius = vg.Points(1.2)
			sc.GlyphStyle.Color = pts.c
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			p.Add(sc)
		}
		var med plotter.XYs
		for _, w := range stats.Windows(s.Samples, time.Second) {
			if w.Requests > 0 {
				med = append(med, plotter.XY{X: (w.Start + time.Second/2).Seconds(), Y: ms(w.P50)})
			}
		}
		if len(med) > 1 {
			l, err := plotter.NewLine(med)
			if err != nil {
				return fmt.Errorf("plot %s: %w", s.Route, err)
			}
			l.LineStyle.Color = lineColor
			l.LineStyle.Width = vg.Points(1)
			p.Add(l)
		}
		grid[i/cols][i%cols] = p
	}
	img := vgimg.New(vg.Points(float64(cols)*300), vg.Points(float64(rows)*210+30))
	dc := draw.New(img)
	header := dc
	header.Min.Y = header.Max.Y - vg.Points(30)
	heading := plot.New()
	heading.Title.Text = title
	heading.HideAxes()
	heading.Draw(header)
	dc.Max.Y -= vg.Points(30)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 2,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(grid, tiles, dc)
	for r := range grid {
		for c := range grid[r] {
			if grid[r][c] != nil {
				grid[r][c].Draw(canvases[r][c])
			}
		}
	}
	return savePNG(path, img)
}

// LatencyCDF draws the latency distribution of every route as a CDF on a
// log axis.
func LatencyCDF(path, title string, series []Series) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "latency (ms, log scale)"
	p.Y.Label.Text = "fraction of requests at or below"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = Ticks125{}
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top = false
	p.Legend.Left = false
	p.Add(plotter.NewGrid())
	for i, s := range series {
		lat := make([]time.Duration, len(s.Samples))
		for j, x := range s.Samples {
			lat[j] = x.Latency
		}
		xys := CDF(lat, 400)
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("plot cdf %s: %w", s.Route, err)
		}
		l.LineStyle.Color = plotutil.Color(i)
		l.LineStyle.Dashes = plotutil.Dashes(i / 7)
		l.LineStyle.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.Route, l)
	}
	return p.Save(9*vg.Inch, 5.5*vg.Inch, path)
}

// CDF returns at most maxPoints points (latency in ms, fraction at or
// below) of the empirical distribution of lat, always keeping the extremes.
func CDF(lat []time.Duration, maxPoints int) plotter.XYs {
	if len(lat) == 0 {
		return nil
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	n := len(s)
	step := max(1, int(math.Ceil(float64(n)/float64(maxPoints))))
	var out plotter.XYs
	for i := 0; i < n; i += step {
		out = append(out, plotter.XY{X: ms(s[i]), Y: float64(i+1) / float64(n)})
	}
	if last := (plotter.XY{X: ms(s[n-1]), Y: 1}); out[len(out)-1] != last {
		out = append(out, last)
	}
	return out
}

// UploadReady draws, for each upload, 202 → ready against its send time,
// beside the distribution, with the compute time and 1.3× it marked.
func UploadReady(path, title string, samples []uploads.Sample, computeMs float64) error {
	var ready plotter.XYs
	var after []time.Duration
	for _, s := range samples {
		if s.Outcome == "ready" {
			ready = append(ready, plotter.XY{X: s.At.Seconds(), Y: ms(s.ReadyAfter)})
			after = append(after, s.ReadyAfter)
		}
	}
	if len(ready) == 0 {
		return nil
	}
	left := plot.New()
	left.Title.Text = "202 → ready by upload time"
	left.X.Label.Text = "upload sent at (s)"
	left.Y.Label.Text = "ms"
	left.Add(plotter.NewGrid())
	sc, err := plotter.NewScatter(ready)
	if err != nil {
		return fmt.Errorf("plot uploads: %w", err)
	}
	sc.GlyphStyle.Color = okColor
	sc.GlyphStyle.Radius = vg.Points(2.5)
	left.Add(sc)

	right := plot.New()
	right.Title.Text = "distribution"
	right.X.Label.Text = "202 → ready (ms)"
	right.Y.Label.Text = "fraction at or below"
	right.Y.Min, right.Y.Max = 0, 1
	right.Add(plotter.NewGrid())
	l, err := plotter.NewLine(CDF(after, 400))
	if err != nil {
		return fmt.Errorf("plot uploads: %w", err)
	}
	l.LineStyle.Color = okColor
	l.LineStyle.Width = vg.Points(2)
	right.Add(l)
	right.Legend.Add("202 → ready", l)
	right.Legend.Left, right.Legend.Top = false, false

	if computeMs > 0 {
		for i, mark := range []struct {
			name string
			v    float64
		}{{"compute alone", computeMs}, {"1.3 × compute (goal for p95)", 1.3 * computeMs}} {
			h := plotter.NewFunction(func(float64) float64 { return mark.v })
			h.Color = plotutil.Color(i + 1)
			h.Dashes = plotutil.Dashes(1)
			left.Add(h)
			left.Legend.Add(mark.name, h)
			v, err := plotter.NewLine(plotter.XYs{{X: mark.v, Y: 0}, {X: mark.v, Y: 1}})
			if err != nil {
				return fmt.Errorf("plot uploads: %w", err)
			}
			v.LineStyle.Color = plotutil.Color(i + 1)
			v.LineStyle.Dashes = plotutil.Dashes(1)
			right.Add(v)
			right.Legend.Add(mark.name, v)
		}
		left.Y.Min = 0
		left.Y.Max = max(left.Y.Max, 1.4*computeMs)
		left.Legend.Top, left.Legend.Left = true, true
	}

	img := vgimg.New(11*vg.Inch, 4.8*vg.Inch)
	dc := draw.New(img)
	header := dc
	header.Min.Y = header.Max.Y - vg.Points(26)
	heading := plot.New()
	heading.Title.Text = title
	heading.HideAxes()
	heading.Draw(header)
	dc.Max.Y -= vg.Points(26)
	grid := [][]*plot.Plot{{left, right}}
	canvases := plot.Align(grid, draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 6, PadLeft: vg.Millimeter * 2,
		PadRight: vg.Millimeter * 3, PadBottom: vg.Millimeter * 2}, dc)
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])
	return savePNG(path, img)
}

func savePNG(path string, img *vgimg.Canvas) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
