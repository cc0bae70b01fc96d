package adapters

import (
	"bytes"
	"testing"
	"testing/iotest"
)

func TestReadCapacity(t *testing.T) {
	t.Parallel()
	const limit = 20 << 20
	for _, c := range []struct {
		name                  string
		announced, hint, want int64
	}{
		{"the sidecar's length wins", 1000, 5000, 1000},
		{"an empty blob, announced", 0, 5000, 0},
		{"no length: the hint", -1, 4_036_975, 4_036_975},
		{"no length, no hint", -1, 0, 512 << 10},
		{"a negative hint is none", -1, -7, 512 << 10},
		{"a hint beyond the largest upload is cut to it", -1, 1 << 40, limit},
		{"so is an announced length", 1 << 40, 0, limit},
	} {
		if got := readCapacity(c.announced, c.hint, limit); got != c.want {
			t.Errorf("%s: readCapacity(%d, %d) = %d, want %d", c.name, c.announced, c.hint, got, c.want)
		}
	}
}

// A blob of the expected length is read into the buffer it was given,
// without growing it; one that is longer still arrives whole.
func TestReadAllKeepsItsBuffer(t *testing.T) {
	t.Parallel()
	blob := bytes.Repeat([]byte("0123456789abcdef"), 1<<14) // 256 KiB
	got, err := readAll(iotest.HalfReader(bytes.NewReader(blob)), int64(len(blob)))
	if err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("read %d bytes, %v; want the %d of the blob", len(got), err, len(blob))
	}
	if cap(got) != len(blob)+1 {
		t.Fatalf("buffer grew to %d bytes for a blob of %d read with its length", cap(got), len(blob))
	}
	got, err = readAll(iotest.HalfReader(bytes.NewReader(blob)), 1000)
	if err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("with too small a buffer: read %d bytes, %v; want the %d of the blob", len(got), err, len(blob))
	}
}
