// Package stages explains upload → ready stage by stage. The thumbnailer
// logs one "thumbnails made" line per post with the durations of its
// stages (queued: commit → start, which is relay, broker and the wait for
// the memory budget; fetch; generate; store; report), and the launcher
// copies every line of the stack into its log file. This package reads
// those lines, matches them to the load tool's own uploads by post id, and
// sets what is left of 202 → ready beside them.
package stages

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"pixshare/tools/load/internal/stats"
)

// Message is the thumbnailer's log message for a finished post
// (workers/internal/app/service.go).
const Message = "thumbnails made"

// Line is one "thumbnails made" log line.
type Line struct {
	PostID  string
	Version int64
	// Service is the logging service (thumbnailer); Prefix is the
	// launcher's name of the process that printed it ("thumbnailer", or
	// "thumbnailer-2" with replicas), "" for a bare JSON line.
	Service, Prefix string
	At              time.Time
	Queued          time.Duration
	Fetch           time.Duration
	Generate        time.Duration
	Store           time.Duration
	Report          time.Duration
}

// Total is the thumbnailer's part of upload → ready: from the upload's
// commit to the end of reporting the thumbnails ready.
func (l Line) Total() time.Duration {
	return l.Queued + l.Fetch + l.Generate + l.Store + l.Report
}

// Log is what Parse found in a log.
type Log struct {
	// Lines holds the first "thumbnails made" line of each post.
	Lines map[string]Line
	// Read counts every line of the log; Made the "thumbnails made"
	// lines; Duplicates those of a post already seen (a redelivered
	// request made twice); Unusable those without a post id or a stage.
	Read, Made, Duplicates, Unusable int
}

// ansi matches colour codes, so a coloured console capture parses too.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// separator is what the launcher prints between a process's name and its
// line (tools/stack/internal/console).
const separator = " │ "

// Parse reads a log: the launcher's lines ("thumbnailer │ {…}") or bare
// JSON lines as an app prints them (the Dapr CLI's .dapr/logs files).
// Only the apps' zap JSON format is understood: it is the one format the
// platform's logger writes.
func Parse(r io.Reader) (Log, error) {
	out := Log{Lines: map[string]Line{}}
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		raw, err := br.ReadString('\n')
		if raw != "" {
			out.Read++
			out.add(raw)
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("stages: read log: %w", err)
		}
	}
}

func (l *Log) add(raw string) {
	text := strings.TrimRight(raw, "\r\n")
	if !strings.Contains(text, Message) {
		return // most lines: cheap to skip
	}
	text = ansi.ReplaceAllString(text, "")
	prefix := ""
	if !strings.HasPrefix(text, "{") {
		p, rest, ok := strings.Cut(text, separator)
		if !ok {
			return
		}
		prefix, text = strings.TrimSpace(p), rest
	}
	var rec struct {
		Msg      string      `json:"msg"`
		Service  string      `json:"service"`
		TS       string      `json:"ts"`
		PostID   string      `json:"post_id"`
		Version  int64       `json:"version"`
		Queued   *msDuration `json:"queued"`
		Fetch    *msDuration `json:"fetch"`
		Generate *msDuration `json:"generate"`
		Store    *msDuration `json:"store"`
		Report   *msDuration `json:"report"`
	}
	if err := json.Unmarshal([]byte(text), &rec); err != nil || rec.Msg != Message {
		return
	}
	l.Made++
	if rec.PostID == "" || rec.Queued == nil || rec.Fetch == nil || rec.Generate == nil || rec.Store == nil || rec.Report == nil {
		l.Unusable++
		return
	}
	if _, seen := l.Lines[rec.PostID]; seen {
		l.Duplicates++
		return
	}
	at, _ := time.Parse("2006-01-02T15:04:05.000Z0700", rec.TS) // zap's ISO8601; zero if another
	l.Lines[rec.PostID] = Line{PostID: rec.PostID, Version: rec.Version, Service: rec.Service, Prefix: prefix, At: at,
		Queued: rec.Queued.d, Fetch: rec.Fetch.d, Generate: rec.Generate.d, Store: rec.Store.d, Report: rec.Report.d}
}

// msDuration is a duration as the platform's logger writes it: a number of
// milliseconds (zap's MillisDurationEncoder). A string is read as a Go
// duration ("1.5s"), as zap's string encoder writes it.
type msDuration struct{ d time.Duration }

func (m *msDuration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("stages: duration %q: %w", s, err)
		}
		m.d = d
		return nil
	}
	ms, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("stages: duration %s: %w", b, err)
	}
	m.d = time.Duration(math.Round(ms * float64(time.Millisecond)))
	return nil
}

// ReadFile parses the log at path.
func ReadFile(path string) (Log, error) {
	f, err := os.Open(path)
	if err != nil {
		return Log{}, fmt.Errorf("stages: %w", err)
	}
	defer f.Close()
	return Parse(f)
}

// Upload is one of the tool's uploads that became ready.
type Upload struct {
	PostID string
	// ReadyAfter is 202 → ready as the tool saw it.
	ReadyAfter time.Duration
}

// Stage is the distribution of one stage over the matched uploads.
type Stage struct {
	Name    string        `json:"name"`
	Meaning string        `json:"meaning"`
	Ms      stats.Latency `json:"ms"`
}

// Example is one upload taken apart: the one at a percentile of 202 →
// ready, so that percentile is explained stage by stage (percentiles of
// the stages do not add up; one upload's stages do, with Rest).
type Example struct {
	// Label is p50, p95 or max (of 202 → ready over the matched uploads).
	Label         string  `json:"label"`
	PostID        string  `json:"post_id"`
	ReadyAfterMs  float64 `json:"ready_after_202_ms"`
	QueuedMs      float64 `json:"queued_ms"`
	FetchMs       float64 `json:"fetch_ms"`
	GenerateMs    float64 `json:"generate_ms"`
	StoreMs       float64 `json:"store_ms"`
	ReportMs      float64 `json:"report_ms"`
	ThumbnailerMs float64 `json:"thumbnailer_ms"`
	RestMs        float64 `json:"rest_ms"`
}

// Breakdown is upload → ready stage by stage.
type Breakdown struct {
	// Source is the log read.
	Source string `json:"source"`
	// Uploads counts the ready uploads; Matched those with a log line.
	Uploads int `json:"uploads"`
	Matched int `json:"matched"`
	// LogLines, MadeLines and Duplicates describe the log (all posts,
	// the seeded ones and other runs' included).
	LogLines   int       `json:"log_lines"`
	MadeLines  int       `json:"made_lines"`
	Duplicates int       `json:"duplicate_made_lines"`
	Stages     []Stage   `json:"stages"`
	Examples   []Example `json:"examples"`
}

// Stage names, in the order of the work.
const (
	Queued      = "queued"
	Fetch       = "fetch"
	Generate    = "generate"
	Store       = "store"
	Report      = "report"
	Thumbnailer = "thumbnailer total"
	Rest        = "rest"
	ReadyAfter  = "202 → ready"
)

var meanings = map[string]string{
	Queued:      "upload committed → thumbnailer starts: outbox relay, broker, wait for the memory budget",
	Fetch:       "read the original from the blob store",
	Generate:    "decode, clean original, every size (fetched → last rendition made)",
	Store:       "the writing of renditions left after the last is made (each is written as soon as it is made)",
	Report:      "MarkThumbnailReady call to post",
	Thumbnailer: "commit → reported: the five above",
	Rest:        "202 → ready minus the thumbnailer total: the answer's way back (or the poll resolution), post's own work, less commit → 202",
	ReadyAfter:  "as the load tool saw it (the same uploads)",
}

// Explain matches uploads to lines by post id and describes the matched
// ones stage by stage.
func Explain(uploads []Upload, log Log, source string) Breakdown {
	b := Breakdown{Source: source, Uploads: len(uploads), LogLines: log.Read, MadeLines: log.Made, Duplicates: log.Duplicates}
	type pair struct {
		up   Upload
		line Line
	}
	var matched []pair
	for _, u := range uploads {
		if l, ok := log.Lines[u.PostID]; ok {
			matched = append(matched, pair{u, l})
		}
	}
	b.Matched = len(matched)
	if len(matched) == 0 {
		return b
	}
	series := map[string][]time.Duration{}
	for _, m := range matched {
		l := m.line
		for name, d := range map[string]time.Duration{Queued: l.Queued, Fetch: l.Fetch, Generate: l.Generate, Store: l.Store,
			Report: l.Report, Thumbnailer: l.Total(), Rest: m.up.ReadyAfter - l.Total(), ReadyAfter: m.up.ReadyAfter} {
			series[name] = append(series[name], d)
		}
	}
	for _, name := range []string{Queued, Fetch, Generate, Store, Report, Thumbnailer, Rest, ReadyAfter} {
		b.Stages = append(b.Stages, Stage{Name: name, Meaning: meanings[name], Ms: stats.Distribution(series[name])})
	}
	slices.SortStableFunc(matched, func(x, y pair) int { return cmp.Compare(x.up.ReadyAfter, y.up.ReadyAfter) })
	for _, p := range []struct {
		label string
		pct   float64
	}{{"p50", 50}, {"p95", 95}, {"max", 100}} {
		// Nearest rank, as stats.Percentile.
		rank := min(max(int(math.Ceil(p.pct/100*float64(len(matched)))), 1), len(matched))
		m := matched[rank-1]
		l := m.line
		b.Examples = append(b.Examples, Example{Label: p.label, PostID: l.PostID, ReadyAfterMs: stats.Ms(m.up.ReadyAfter),
			QueuedMs: stats.Ms(l.Queued), FetchMs: stats.Ms(l.Fetch), GenerateMs: stats.Ms(l.Generate), StoreMs: stats.Ms(l.Store),
			ReportMs: stats.Ms(l.Report), ThumbnailerMs: stats.Ms(l.Total()), RestMs: stats.Ms(m.up.ReadyAfter - l.Total())})
	}
	return b
}
