package console

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLine bounds one printed line; longer output is split rather than held
// in memory until a newline that may never come.
const maxLine = 64 << 10

// Stream is one child's output: it prints each line with the child's prefix
// and keeps the last lines in a ring buffer. A child's stdout and stderr may
// be pumped into the same Stream concurrently.
type Stream struct {
	c      *Console
	prefix string
	// plain is prefix without colour, for the console's tee.
	plain string
	ring  *Ring
}

// Stream returns the Stream for name, keeping the last keep lines.
func (c *Console) Stream(name string, style Style, keep int) *Stream {
	return &Stream{c: c, prefix: c.prefix(name, style), plain: c.plainPrefix(name), ring: NewRing(keep)}
}

// Pump copies r line by line until EOF or a read error (a closed pipe).
// The whole lines that one read brought are printed with one write: a
// child that writes its log in batches is copied in batches, not with a
// system call per line.
func (s *Stream) Pump(r io.Reader) {
	br := bufio.NewReaderSize(r, maxLine)
	var out, plain strings.Builder
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			s.add(&out, &plain, string(chunk))
		}
		if err == nil && out.Len() < maxLine && wholeLineBuffered(br) {
			continue
		}
		if out.Len() > 0 {
			s.c.write(out.String(), plain.String())
			out.Reset()
			plain.Reset()
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// wholeLineBuffered reports whether br holds a whole line already read,
// which ReadSlice returns without waiting for the child.
func wholeLineBuffered(br *bufio.Reader) bool {
	n := br.Buffered()
	if n == 0 {
		return false
	}
	b, _ := br.Peek(n)
	return bytes.IndexByte(b, '\n') >= 0
}

func (s *Stream) add(out, plain *strings.Builder, l string) {
	l = strings.TrimRight(l, "\r\n")
	s.ring.Add(l)
	out.WriteString(s.prefix + l + "\n")
	plain.WriteString(s.plain + l + "\n")
}

func (s *Stream) line(l string) {
	var out, plain strings.Builder
	s.add(&out, &plain, l)
	s.c.write(out.String(), plain.String())
}

// Lines returns the remembered last lines, oldest first.
func (s *Stream) Lines() []string { return s.ring.Lines() }

// Printf prints one line under this stream's prefix and remembers it, for
// output that does not come from a pipe (the embedded broker's errors).
func (s *Stream) Printf(format string, args ...any) {
	s.line(fmt.Sprintf(format, args...))
}
