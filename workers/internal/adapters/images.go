package adapters

import (
	"context"
	"fmt"
	"io"

	"pixshare/platform/apperror"
	"pixshare/platform/blob"
)

// Images is app.Images on the images binding: originals are read through
// the sidecar's HTTP binding API, renditions written and deleted through
// its gRPC API.
//
// A read over HTTP is the stored bytes as the response body, read once
// into a buffer of the announced length; over gRPC the same bytes are a
// protobuf message marshalled by the sidecar and unmarshalled here, one
// more copy of the whole picture on each side. A write is the other way
// round: Dapr 1.14's HTTP binding API decodes the JSON body and encodes
// its data again before the component sees it, which for a few MiB of
// base64 costs more than the gRPC message does.
type Images struct {
	writer *blob.Dapr
	reader *blob.Streamer
	// limit caps the buffer allocated up front from the announced length
	// (the largest upload); a longer body is still read whole, as over
	// gRPC, and the memory budget then counts it.
	limit int64
}

// NewImages returns Images writing with writer and reading with reader;
// limit is the largest upload.
func NewImages(writer *blob.Dapr, reader *blob.Streamer, limit int64) Images {
	return Images{writer: writer, reader: reader, limit: limit}
}

// Put implements app.Images.
func (i Images) Put(ctx context.Context, key string, data []byte) error {
	return i.writer.Put(ctx, key, data)
}

// Delete implements app.Images, through the same gRPC API as Put (a
// missing blob is not an error).
func (i Images) Delete(ctx context.Context, key string) error {
	return i.writer.Delete(ctx, key)
}

// Get implements app.Images.
func (i Images) Get(ctx context.Context, key string, sizeHint int64) ([]byte, error) {
	body, size, err := i.reader.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer func() { _ = body.Close() }()
	data, err := readAll(body, readCapacity(size, sizeHint, i.limit))
	if err != nil {
		return nil, apperror.Wrap(apperror.Unavailable, fmt.Errorf("get %s: %w", key, err), "image storage unavailable")
	}
	return data, nil
}

// readCapacity is the buffer a blob is read into: the length the sidecar
// announced, else the caller's hint (the binding's local storage answers
// without a length, and growing a buffer to a 4 MB original copies it
// over and over), else 512 KiB; never more than the largest upload, so a
// wrong hint cannot make the buffer larger than a real blob could need.
func readCapacity(announced, hint, limit int64) int64 {
	switch {
	case announced >= 0:
		return min(announced, limit)
	case hint > 0:
		return min(hint, limit)
	}
	return min(512<<10, limit)
}

// readAll is io.ReadAll into a buffer of capacity bytes first (the body's
// announced length, plus one for the read that sees its end), so a known
// length is read without growing and copying the buffer.
func readAll(r io.Reader, capacity int64) ([]byte, error) {
	b := make([]byte, 0, capacity+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}
