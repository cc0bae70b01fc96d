package console

import (
	"bufio"
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
func (s *Stream) Pump(r io.Reader) {
	br := bufio.NewReaderSize(r, maxLine)
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			s.line(string(chunk))
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

func (s *Stream) line(l string) {
	l = strings.TrimRight(l, "\r\n")
	s.ring.Add(l)
	s.c.write(s.prefix+l+"\n", s.plain+l+"\n")
}

// Lines returns the remembered last lines, oldest first.
func (s *Stream) Lines() []string { return s.ring.Lines() }

// Printf prints one line under this stream's prefix and remembers it, for
// output that does not come from a pipe (the embedded broker's errors).
func (s *Stream) Printf(format string, args ...any) {
	s.line(fmt.Sprintf(format, args...))
}
