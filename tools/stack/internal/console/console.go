// Package console merges the output of every child process onto the
// launcher's stdout, one whole line at a time, each line prefixed with the
// child's name, optionally copies every line (without colour) to a log
// file, and remembers the last lines of each child for error reports.
package console

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// Console serialises writes: lines from many goroutines never interleave.
type Console struct {
	mu    sync.Mutex
	w     io.Writer
	width int
	color bool
	// tee receives every line too, never coloured; nil = none.
	tee io.Writer
}

// New returns a Console whose prefixes are padded to the longest of names,
// so that the │ separators line up.
func New(w io.Writer, color bool, names []string) *Console {
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	return &Console{w: w, width: width, color: color}
}

// Tee makes every line printed from now on go to w as well, without
// colour codes even when the console has them: a log file that tools read
// while the stack runs (tools/load finds the thumbnailer's stage timings
// there). Lines are written whole, one or more per write, so a reader
// never sees half a line of a finished write.
func (c *Console) Tee(w io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tee = w
}

// Printf writes one of the launcher's own messages, without prefix.
func (c *Console) Printf(format string, args ...any) {
	msg := strings.TrimSuffix(fmt.Sprintf(format, args...), "\n") + "\n"
	c.write(msg, msg)
}

// PrintLines writes lines under the given name, e.g. a ring buffer dump.
func (c *Console) PrintLines(name string, style Style, lines []string) {
	p, plain := c.prefix(name, style), c.plainPrefix(name)
	var b, bp strings.Builder
	for _, l := range lines {
		b.WriteString(p + l + "\n")
		bp.WriteString(plain + l + "\n")
	}
	c.write(b.String(), bp.String())
}

// write prints s on the console and plain (the same text without colour)
// on the tee.
func (c *Console) write(s, plain string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	io.WriteString(c.w, s) //nolint:errcheck // nowhere better to report a broken stdout
	if c.tee != nil {
		// A full disk must not stop the stack: the console still has
		// every line.
		io.WriteString(c.tee, plain) //nolint:errcheck
	}
}

// Style picks a prefix colour. Sidecars use their app's colour, dimmed, so
// that a pair reads as one unit.
type Style struct {
	Colour int // index into the palette
	Dim    bool
}

var palette = []string{"36", "33", "35", "32", "34", "91", "96", "93", "95", "92"}

func (c *Console) plainPrefix(name string) string {
	return fmt.Sprintf("%-*s │ ", c.width, name)
}

func (c *Console) prefix(name string, s Style) string {
	padded := c.plainPrefix(name)
	if !c.color {
		return padded
	}
	code := palette[s.Colour%len(palette)]
	if s.Dim {
		code = "2;" + code
	}
	return "\x1b[" + code + "m" + padded + "\x1b[0m"
}

// IsTerminal reports whether f is a character device (a terminal), the
// only case where colour codes help rather than pollute a log file. NO_COLOR
// (https://no-color.org) turns colour off regardless.
func IsTerminal(f *os.File) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
