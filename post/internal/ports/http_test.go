package ports

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

// An image answer of known length is exact: a blob shorter or longer than
// its recorded length fails the copy, and the client never gets as many
// bytes as announced (the last is held back until the end is seen).
func TestCopyImageIsExactOrShort(t *testing.T) {
	t.Parallel()
	const blob = "0123456789"
	for _, c := range []struct {
		name    string
		src     string
		length  int64
		wantErr bool
		wantOut string
	}{
		{"unknown length", blob, -1, false, blob},
		{"exact", blob, 10, false, blob},
		{"exact, one byte", "x", 1, false, "x"},
		{"empty, as announced", "", 0, false, ""},
		{"shorter than announced", blob, 12, true, blob},
		{"longer than announced", blob, 8, true, "0123456"},
		{"longer than an empty announcement", blob, 0, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			// One byte per read: the end is seen only by a read of its own.
			err := copyImage(&out, iotest.OneByteReader(strings.NewReader(c.src)), c.length)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, c.wantErr)
			}
			if out.String() != c.wantOut {
				t.Fatalf("client got %q, want %q", out.String(), c.wantOut)
			}
			if c.wantErr && c.length > 0 && int64(out.Len()) >= c.length {
				t.Fatalf("a wrong blob reached the client whole: %d of %d bytes", out.Len(), c.length)
			}
		})
	}
}

// A read error half-way is the copy's error (the handler then breaks the
// connection off).
func TestCopyImageReportsReadErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("sidecar went away")
	var out bytes.Buffer
	if err := copyImage(&out, &failAfter{r: strings.NewReader("0123456789"), err: boom, n: 4}, 10); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if err := copyImage(&out, &failAfter{r: strings.NewReader("0123456789"), err: boom, n: 4}, -1); !errors.Is(err, boom) {
		t.Fatalf("unknown length: err = %v, want %v", err, boom)
	}
}

// failAfter gives n bytes of r, then err.
type failAfter struct {
	r   interface{ Read([]byte) (int, error) }
	err error
	n   int
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}
