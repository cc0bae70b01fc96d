package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strconv"
	"testing"

	dapr "github.com/dapr/go-sdk/client"

	"pixshare/platform/blob"
	"pixshare/platform/daprtest"
	"pixshare/platform/sidecar"
)

// store starts a sidecar with the local images binding and returns both
// ways to reach it.
func store(t testing.TB) (*blob.Dapr, *blob.Streamer) {
	t.Helper()
	env := daprtest.NewEnv(t, daprtest.LocalImages)
	// No app listens: only the sidecar's outbound side (bindings) is used.
	side := env.Start(t, "blobs", daprtest.FreePort(t))
	conn, err := sidecar.Dial(sidecar.Config{Host: "127.0.0.1", GRPCPort: side.GRPCPort, APIToken: side.DaprAPIToken, MaxMessageBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	addr := "127.0.0.1:" + strconv.Itoa(side.HTTPPort)
	return blob.NewDapr(dapr.NewClientWithConnection(conn), "images"), blob.NewStreamer(addr, side.DaprAPIToken, "images")
}

// failingReader yields n bytes, then fails.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

// TestStreamer: what Write stores is exactly what Open and the gRPC Get
// read (the thumbnailer reads originals by Get), whatever the bytes; a
// missing key is ErrNotFound; a source that fails half-way stores
// nothing and its error comes back unchanged.
func TestStreamer(t *testing.T) {
	whole, streams := store(t)
	ctx := context.Background()

	data := make([]byte, 3<<20+7)
	_, _ = rand.Read(data)
	copy(data, "aGVsbG8=") // starts like base64: must still be stored as is
	n, err := streams.Write(ctx, "uploads/a", bytes.NewReader(data))
	if err != nil || n != int64(len(data)) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	body, length, err := streams.Open(ctx, "uploads/a")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(body)
	_ = body.Close()
	if err != nil || !bytes.Equal(got, data) || (length != -1 && length != int64(len(data))) {
		t.Fatalf("Open read %d bytes (length %d), %v; want the %d written", len(got), length, err, len(data))
	}
	if got, err := whole.Get(ctx, "uploads/a"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get read %d bytes, %v; want the %d written", len(got), err, len(data))
	}

	if _, _, err := streams.Open(ctx, "uploads/missing"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Open of a missing key: %v, want ErrNotFound", err)
	}

	cut := errors.New("client hung up")
	if _, err := streams.Write(ctx, "uploads/b", &failingReader{n: 1 << 20, err: cut}); !errors.Is(err, cut) {
		t.Fatalf("Write with a failing source: %v, want its error", err)
	}
	if _, _, err := streams.Open(ctx, "uploads/b"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("a failed Write stored something: Open = %v", err)
	}
}

// BenchmarkUpload compares the bytes the app allocates to store one
// 20 MiB upload: the way post did it before streaming (the image read
// whole, base64-encoded, sent over the sidecar's gRPC API) and the
// streamed way (Streamer.Write from the request body). Run with
//
//	go test -run '^$' -bench Upload -benchmem ./platform/blob/
func BenchmarkUpload(b *testing.B) {
	whole, streams := store(b)
	ctx := context.Background()
	data := make([]byte, 20<<20)
	_, _ = rand.Read(data)
	b.Run("grpc-whole", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			// The body was read whole first (io.ReadAll, as the form
			// reader did).
			img, _ := io.ReadAll(bytes.NewReader(data))
			if err := whole.Put(ctx, "uploads/bench", img); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("http-stream", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := streams.Write(ctx, "uploads/bench", bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
