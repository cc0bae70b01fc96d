package blob

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"pixshare/platform/apperror"
	"pixshare/platform/reqinfo"
)

// Streamer moves blob bytes through the sidecar's HTTP binding API
// (POST /v1.0/bindings/<name>) instead of its gRPC API: a gRPC call holds
// the whole payload as one message on both sides of the marshalling,
// while an HTTP body can be written and read as a stream. So the app
// holds a few buffers per blob, never the blob.
//
// A binding still takes its data in one request: the sidecar reads the
// whole body before it calls the component, so a write whose source
// fails half-way (a client that hangs up, an upload over its limit)
// stores nothing. The data is base64 inside the JSON body, for the same
// reason Dapr.Put sends base64.
type Streamer struct {
	binding string
	url     string
	token   string
	client  *http.Client
}

// NewStreamer returns a Streamer on the binding component named binding,
// through the sidecar's HTTP API at addr (host:port); token is the Dapr
// API token ("" when none).
func NewStreamer(addr, token, binding string) *Streamer {
	return &Streamer{
		binding: binding,
		url:     "http://" + addr + "/v1.0/bindings/" + binding,
		token:   token,
		// No client timeout: a transfer lasts as long as its context
		// (the request it serves) allows.
		client: &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: 32,
			// Large enough to write a body without a syscall per few
			// bytes, small enough to stay a constant per transfer.
			WriteBufferSize: 32 << 10,
			ReadBufferSize:  32 << 10,
		}},
	}
}

// Write stores what src yields under key and returns how many bytes that
// was. An error of src is returned as src gave it (a problem the caller
// made, like an upload over its limit), and then nothing is stored.
func (s *Streamer) Write(ctx context.Context, key string, src io.Reader) (int64, error) {
	meta, err := json.Marshal(map[string]string{"fileName": key, "key": key})
	if err != nil {
		return 0, fmt.Errorf("put %s: %w", key, err)
	}
	pr, pw := io.Pipe()
	counted := &countingReader{r: src}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pw.CloseWithError(writeBody(pw, meta, counted))
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, pr)
	if err == nil {
		s.headers(ctx, req)
		var res *http.Response
		if res, err = s.client.Do(req); err == nil {
			err = s.check(res, key)
			_ = res.Body.Close()
		}
	}
	// The writer must be done with src before src's owner goes on.
	_ = pr.CloseWithError(errors.New("request ended"))
	wg.Wait()
	if counted.err != nil {
		return counted.n, counted.err
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) || apperror.Is(err, apperror.Unavailable) {
			return counted.n, err
		}
		return counted.n, apperror.Wrap(apperror.Unavailable, fmt.Errorf("put %s: %w", key, err), "image storage unavailable")
	}
	return counted.n, nil
}

// writeBody writes the binding request, base64-encoding src on the way.
// The encoder writes 1 KiB at a time; buffered, the body goes out in
// 32 KiB chunks rather than one chunk (and allocation) per KiB.
func writeBody(pw io.Writer, meta []byte, src io.Reader) error {
	w := bufio.NewWriterSize(pw, 32<<10)
	if _, err := io.WriteString(w, `{"operation":"create","metadata":`+string(meta)+`,"data":"`); err != nil {
		return err
	}
	enc := base64.NewEncoder(base64.StdEncoding, w)
	if _, err := io.CopyBuffer(enc, src, make([]byte, 32<<10)); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	if _, err := io.WriteString(w, `"}`); err != nil {
		return err
	}
	return w.Flush()
}

// Open returns the bytes stored under key as a stream, with their length
// when the sidecar says it (-1 otherwise). The caller closes it.
func (s *Streamer) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	meta, err := json.Marshal(map[string]any{"operation": "get", "metadata": map[string]string{"fileName": key, "key": key}})
	if err != nil {
		return nil, 0, fmt.Errorf("get %s: %w", key, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader(string(meta)))
	if err != nil {
		return nil, 0, fmt.Errorf("get %s: %w", key, err)
	}
	s.headers(ctx, req)
	res, err := s.client.Do(req)
	if err != nil {
		return nil, 0, apperror.Wrap(apperror.Unavailable, fmt.Errorf("get %s: %w", key, err), "image storage unavailable")
	}
	if err := s.check(res, key); err != nil {
		_ = res.Body.Close()
		return nil, 0, err
	}
	return res.Body, res.ContentLength, nil
}

func (s *Streamer) headers(ctx context.Context, req *http.Request) {
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("dapr-api-token", s.token)
	}
	if tp := reqinfo.TraceParent(ctx); tp != "" {
		req.Header.Set("traceparent", tp)
	}
	if id := reqinfo.RequestID(ctx); id != "" {
		req.Header.Set("X-Request-Id", id)
	}
}

// check turns a failed answer of the sidecar into ErrNotFound (the
// component's "no such blob", recognised as for the gRPC API) or an
// outage. It reads a failed answer's body, a short JSON error.
func (s *Streamer) check(res *http.Response, key string) error {
	if res.StatusCode/100 == 2 {
		return nil
	}
	var answer struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	_ = json.Unmarshal(body, &answer)
	if notFoundMessage(s.binding, answer.Message) {
		return fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	return apperror.Wrap(apperror.Unavailable,
		fmt.Errorf("binding %s, key %s: HTTP %d %s: %s", s.binding, key, res.StatusCode, answer.ErrorCode, answer.Message),
		"image storage unavailable")
}

// countingReader counts the bytes read and keeps the first error other
// than io.EOF, so Write can tell its source's failure from the sidecar's.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// Streaming is a Store on a Dapr binding that also streams (Write, Open).
type Streaming struct {
	*Dapr
	*Streamer
}
