package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"pixshare/platform/httpserver"
	"pixshare/platform/reqinfo"
)

// The direct exchange is the gateway's read path: GET and HEAD requests
// without a body, to an http:// upstream. The handler's own goroutine
// writes the request on a pooled keep-alive connection, reads the answer
// and copies its body to the client, where http.Transport hands every
// request to a writer goroutine and every answer from a reader goroutine
// (with httputil.ReverseProxy cloning the request and wrapping its context
// on top). Profiled through the whole chain (BenchmarkGatewayPost), those
// handoffs, the wake-ups of idle threads they cause, and the per-request
// allocations were most of what a proxied read cost beyond /healthz.
// Everything else (bodies, uploads, protocol upgrades, https upstreams)
// still goes through httputil.ReverseProxy and the shared transport.
//
// What the upstream receives and what the client gets back are the same
// as through ReverseProxy with the gateway's Rewrite: hop-by-hop and
// client-sent forwarding headers dropped, X-Forwarded-* set from the
// connection, the request id, trace context and client address set from
// what the middleware decided, the response's hop-by-hop headers removed
// and cleanResponse applied, bodies streamed (flushed on every write when
// their length is unknown). Failures map to the same errors, so
// writeProxyError answers them alike: a failed dial is a *net.OpError
// "dial" (503), no response headers within the upstream timeout a timeout
// (504), a client gone away context.Canceled (499).

// directEligible reports whether r can take the direct exchange.
func directEligible(r *http.Request, target *url.URL) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		target.Scheme == "http" &&
		r.ContentLength == 0 && (r.Body == nil || r.Body == http.NoBody) &&
		len(r.TransferEncoding) == 0 &&
		r.URL.Opaque == "" &&
		r.Header.Get("Upgrade") == "" && r.Header.Get("Expect") == "" &&
		queryIsClean(r.URL.RawQuery)
}

// queryIsClean reports whether ReverseProxy would send the query as it is
// (it re-encodes queries with ';' or a broken escape, dropping what does
// not parse); such requests take the ReverseProxy path.
func queryIsClean(q string) bool {
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case ';':
			return false
		case '%':
			if i+2 >= len(q) || !ishex(q[i+1]) || !ishex(q[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// hopHeaders are removed from both directions (RFC 9110 section 7.6.1, and
// the older ones ReverseProxy still removes).
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// notForwarded are request headers the gateway sets itself (or never
// passes on): what the client said of them is dropped.
var notForwarded = map[string]bool{
	"Forwarded": true, "X-Forwarded-For": true, "X-Forwarded-Host": true, "X-Forwarded-Proto": true,
	httpserver.HeaderRequestID: true, "Traceparent": true,
	httpserver.HeaderClientAddr: true, httpserver.HeaderHopToken: true,
	// Bodiless GET and HEAD: net/http sends no length either.
	"Content-Length": true,
	// Hop-by-hop (hopHeaders); Te: trailers is passed on when asked for.
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// connPool keeps idle keep-alive connections to one upstream host, the
// most recently used first (so a quiet period lets the others age out).
type connPool struct {
	addr          string
	dial          func(ctx context.Context, network, addr string) (net.Conn, error)
	headerTimeout time.Duration
	idleTimeout   time.Duration
	maxIdle       int

	mu     sync.Mutex
	idle   []*upConn
	closed bool
}

// upConn is one connection to the upstream with its buffers.
type upConn struct {
	conn      net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
}

func newConnPool(addr string, transport *http.Transport, headerTimeout time.Duration) *connPool {
	dial := transport.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	idleTimeout := transport.IdleConnTimeout
	if idleTimeout <= 0 {
		idleTimeout = 90 * time.Second
	}
	maxIdle := transport.MaxIdleConnsPerHost
	if maxIdle <= 0 {
		maxIdle = http.DefaultMaxIdleConnsPerHost
	}
	return &connPool{addr: addr, dial: dial, headerTimeout: headerTimeout, idleTimeout: idleTimeout, maxIdle: maxIdle}
}

// get returns an idle connection (reused true) or dials a new one.
func (p *connPool) get(ctx context.Context) (c *upConn, reused bool, err error) {
	now := time.Now()
	p.mu.Lock()
	for len(p.idle) > 0 {
		c = p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if now.Sub(c.idleSince) < p.idleTimeout {
			p.mu.Unlock()
			return c, true, nil
		}
		_ = c.conn.Close()
	}
	p.mu.Unlock()
	return p.dialNew(ctx)
}

func (p *connPool) dialNew(ctx context.Context) (*upConn, bool, error) {
	conn, err := p.dial(ctx, "tcp", p.addr)
	if err != nil {
		return nil, false, err
	}
	return &upConn{conn: conn, br: bufio.NewReaderSize(conn, 4<<10), bw: bufio.NewWriterSize(conn, 4<<10)}, false, nil
}

// put returns a connection whose last answer was read whole.
func (p *connPool) put(c *upConn) {
	c.idleSince = time.Now()
	p.mu.Lock()
	if p.closed || len(p.idle) >= p.maxIdle {
		p.mu.Unlock()
		_ = c.conn.Close()
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// closeIdle closes the idle connections and keeps none from now on.
func (p *connPool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		_ = c.conn.Close()
	}
}

// direct serves r by the direct exchange with target. It returns an error
// only when nothing was written to w yet; the caller answers it with a
// problem document.
func (p *proxy) direct(w http.ResponseWriter, r *http.Request, target *url.URL) error {
	ctx := r.Context()
	pool := p.pool(target)
	c, reused, err := pool.get(ctx)
	if err != nil {
		return err
	}
	// The client going away unblocks whatever the connection in use
	// waits for (one watch for the whole exchange, retry included).
	var current atomic.Pointer[upConn]
	current.Store(c)
	stop := context.AfterFunc(ctx, func() { _ = current.Load().conn.SetDeadline(time.Unix(1, 0)) })
	res, err := p.exchange(ctx, r, target, c)
	if err != nil && reused && ctx.Err() == nil && staleConn(err) {
		// An idle connection the upstream had already closed: nothing of
		// the request was taken, and GET and HEAD are safe to send again
		// (http.Transport does the same).
		if c, _, err = pool.dialNew(ctx); err != nil {
			stop()
			return err
		}
		current.Store(c)
		if ctx.Err() == nil {
			res, err = p.exchange(ctx, r, target, c)
		} else {
			_ = c.conn.Close()
			err = ctx.Err()
		}
	}
	if err != nil {
		stop()
		return err
	}
	reusable := false
	defer func() {
		// A connection is reused only after an answer read to its end,
		// its deadline untouched (a panic, from an aborted copy, leaves
		// reusable false).
		if stop() && reusable && ctx.Err() == nil {
			pool.put(c)
			return
		}
		_ = c.conn.Close()
	}()
	reusable = p.respond(w, res, c)
	return nil
}

// staleConn reports whether err is what a connection closed by the peer
// while idle gives on first use.
func staleConn(err error) bool {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// exchange writes the request on c and reads the response headers within
// the upstream timeout; on error, c is closed.
func (p *proxy) exchange(ctx context.Context, r *http.Request, target *url.URL, c *upConn) (res *http.Response, err error) {
	defer func() {
		if ctx.Err() != nil {
			if res != nil {
				_ = res.Body.Close()
			}
			res, err = nil, ctx.Err()
		}
		if err != nil {
			_ = c.conn.Close()
		}
	}()
	if err := p.writeRequest(r, target, c.bw); err != nil {
		return nil, err
	}
	if t := p.pool(target).headerTimeout; t > 0 {
		if err := c.conn.SetReadDeadline(time.Now().Add(t)); err != nil {
			return nil, err
		}
	}
	for {
		res, err = http.ReadResponse(c.br, r)
		if err != nil {
			return nil, err
		}
		if res.StatusCode >= 200 || res.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		// A 1xx informational answer (the services send none to GET or
		// HEAD): the final answer follows it.
		_ = res.Body.Close()
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		_ = res.Body.Close()
		return nil, errors.New("upstream switched protocols on a request that asked for no upgrade")
	}
	// Bodies stream without a time limit. One already in the buffer
	// needs no more reads: the deadline stays until the next request
	// sets its own (saving a timer update per small answer).
	if res.ContentLength < 0 || res.ContentLength > int64(c.br.Buffered()) {
		if err := c.conn.SetReadDeadline(time.Time{}); err != nil {
			_ = res.Body.Close()
			return nil, err
		}
	}
	return res, nil
}

// writeRequest writes the head of r as the upstream is to receive it.
func (p *proxy) writeRequest(r *http.Request, target *url.URL, bw *bufio.Writer) error {
	u := *r.URL
	u.Scheme, u.Host = target.Scheme, target.Host
	// Upstream URLs carry no query (upstream.parseBaseURL), so the
	// client's query goes as it is.
	u.Path, u.RawPath = joinURLPath(target, r.URL)
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	bw.WriteString(u.RequestURI())
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(target.Host)
	bw.WriteString("\r\n")

	h := r.Header
	connTokens := h["Connection"]
	for k, vv := range h {
		if notForwarded[k] || (len(connTokens) > 0 && listedIn(connTokens, k)) {
			continue
		}
		for _, v := range vv {
			writeHeader(bw, k, v)
		}
	}
	if hasToken(h["Te"], "trailers") {
		writeHeader(bw, "Te", "trailers")
	}
	ri := reqinfo.From(r.Context())
	forwardedFor := ""
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		forwardedFor = host
	}
	if ri != nil && ri.ClientAddr != "" && p.hopToken != "" {
		writeHeader(bw, httpserver.HeaderClientAddr, ri.ClientAddr)
		writeHeader(bw, httpserver.HeaderHopToken, p.hopToken)
		forwardedFor = ri.ClientAddr
	}
	if forwardedFor != "" {
		writeHeader(bw, "X-Forwarded-For", forwardedFor)
	}
	writeHeader(bw, "X-Forwarded-Host", r.Host)
	if r.TLS == nil {
		writeHeader(bw, "X-Forwarded-Proto", "http")
	} else {
		writeHeader(bw, "X-Forwarded-Proto", "https")
	}
	if ri != nil && ri.ID != "" {
		writeHeader(bw, httpserver.HeaderRequestID, ri.ID)
	}
	if ri != nil && ri.TraceParent != "" {
		writeHeader(bw, "Traceparent", ri.TraceParent)
	}
	bw.WriteString("\r\n")
	return bw.Flush()
}

func writeHeader(bw *bufio.Writer, k, v string) {
	bw.WriteString(k)
	bw.WriteString(": ")
	// The server's parser let no CR or LF into a value; the gateway's own
	// values have none either. Trim as net/http does.
	bw.WriteString(textproto.TrimString(v))
	bw.WriteString("\r\n")
}

// hasToken reports whether a comma-separated header lists token (a TE
// value may carry parameters: "trailers;q=1" does not occur, but
// "deflate, trailers" does).
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for f := range strings.SplitSeq(v, ",") {
			if f, _, _ = strings.Cut(f, ";"); strings.EqualFold(textproto.TrimString(f), token) {
				return true
			}
		}
	}
	return false
}

// listedIn reports whether header k is named in a Connection header.
func listedIn(connection []string, k string) bool {
	for _, v := range connection {
		for f := range strings.SplitSeq(v, ",") {
			if f = textproto.TrimString(f); f != "" && textproto.CanonicalMIMEHeaderKey(f) == k {
				return true
			}
		}
	}
	return false
}

// respond copies res, read from c, to w and reports whether c can carry
// another request (its body was read to the end).
func (p *proxy) respond(w http.ResponseWriter, res *http.Response, c *upConn) bool {
	removeHopByHopHeaders(res.Header)
	_ = cleanResponse(res)
	dst := w.Header()
	for k, vv := range res.Header {
		if dst[k] == nil {
			dst[k] = vv
		} else {
			dst[k] = append(dst[k], vv...)
		}
	}
	announced := len(res.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		dst.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(res.StatusCode)

	var out io.Writer = w
	if res.ContentLength == -1 || isEventStream(res.Header.Get("Content-Type")) {
		out = flushWriter{w: w, rc: http.NewResponseController(w)}
	} else if upstream, ok := c.conn.(*net.TCPConn); ok && hasBody(res) && res.ContentLength-int64(c.br.Buffered()) >= spliceMin {
		// res.Body is bypassed, so it is never closed, whatever happens:
		// closing it would wait for the bytes already moved. (A body of
		// known length has no trailers.)
		if err := copyFromSocket(w, res.ContentLength, c.br, upstream); err != nil {
			// As below: the answer is cut short.
			p.logf("copying a body from the upstream's socket: %v", err)
			panic(http.ErrAbortHandler)
		}
		return !res.Close
	}
	buf := p.buffers.get()
	_, err := copyBody(out, res.Body, *buf, p.logf)
	p.buffers.put(buf)
	if err != nil {
		_ = res.Body.Close()
		// Streaming had begun: all that is left is to break the client's
		// connection, so it sees a truncated answer (ReverseProxy does
		// the same).
		panic(http.ErrAbortHandler)
	}
	_ = res.Body.Close()
	if len(res.Trailer) > 0 {
		_ = http.NewResponseController(w).Flush()
		if len(res.Trailer) == announced {
			for k, vv := range res.Trailer {
				dst[k] = append(dst[k], vv...)
			}
		} else {
			for k, vv := range res.Trailer {
				for _, v := range vv {
					dst.Add(http.TrailerPrefix+k, v)
				}
			}
		}
	}
	return !res.Close
}

// hasBody reports whether the bytes of res.ContentLength follow its
// headers: not for an answer to HEAD, whose length is the GET's.
func hasBody(res *http.Response) bool {
	return res.Body != http.NoBody && (res.Request == nil || res.Request.Method != http.MethodHead)
}

// spliceMin is the body length from which a body of known length moves
// from the upstream's socket to the client's in the kernel: a large
// image then costs the gateway a few splice(2) calls instead of a read
// and a write for every piece (the sidecars and the services answer in
// pieces of about 11 KB). Below it, the copy through the 32 KiB buffer
// is as cheap.
const spliceMin = 32 << 10

// copyFromSocket writes the length bytes of a body to w: those the
// response headers' read took into br first, then the rest read straight
// from the upstream's socket. io.Copy hands that to the server's
// response.ReadFrom, which gives it to the client connection's ReadFrom:
// a *net.TCPConn reading from a limited *net.TCPConn splices. Through
// any other writer (a wrapper without ReadFrom, HTTP/2) it is a plain
// copy. Exactly length bytes are taken from the socket, so the
// connection is left at the next answer, reusable.
func copyFromSocket(w io.Writer, length int64, br *bufio.Reader, upstream *net.TCPConn) error {
	if n := int(min(int64(br.Buffered()), length)); n > 0 {
		b, _ := br.Peek(n)
		if _, err := w.Write(b); err != nil {
			return err
		}
		_, _ = br.Discard(n)
		length -= int64(n)
	}
	lr := &io.LimitedReader{R: upstream, N: length}
	if _, err := io.Copy(w, lr); err != nil {
		return err
	}
	if lr.N > 0 {
		return fmt.Errorf("upstream closed with %d bytes of the body unsent: %w", lr.N, io.ErrUnexpectedEOF)
	}
	return nil
}

// isEventStream reports whether ct is text/event-stream (Server-Sent
// Events, flushed on every write), without mime.ParseMediaType's
// allocations on every answer.
func isEventStream(ct string) bool {
	base, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(base), "text/event-stream")
}

func removeHopByHopHeaders(h http.Header) {
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, f := range hopHeaders {
		h.Del(f)
	}
}

// flushWriter flushes after every write: answers of unknown length are
// streams, whose parts must reach the client as they come.
type flushWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (f flushWriter) Write(b []byte) (int, error) {
	n, err := f.w.Write(b)
	if err != nil {
		return n, err
	}
	return n, f.rc.Flush()
}

// copyBody copies src to dst through buf; read errors other than the end
// are logged (they break the client's answer off).
func copyBody(dst io.Writer, src io.Reader, buf []byte, logf func(string, ...any)) (int64, error) {
	var written int64
	for {
		nr, rerr := src.Read(buf)
		if rerr != nil && rerr != io.EOF && rerr != context.Canceled {
			logf("read error during body copy: %v", rerr)
		}
		if nr > 0 {
			nw, werr := dst.Write(buf[:nr])
			written += int64(nw)
			if werr != nil {
				return written, werr
			}
			if nw != nr {
				return written, io.ErrShortWrite
			}
		}
		if rerr != nil {
			if rerr == io.EOF {
				return written, nil
			}
			return written, rerr
		}
	}
}

func singleJoiningSlash(a, b string) string {
	aslash := strings.HasSuffix(a, "/")
	bslash := strings.HasPrefix(b, "/")
	switch {
	case aslash && bslash:
		return a + b[1:]
	case !aslash && !bslash:
		return a + "/" + b
	}
	return a + b
}

// joinURLPath is ReverseProxy's SetURL path joining.
func joinURLPath(a, b *url.URL) (path, rawpath string) {
	if a.RawPath == "" && b.RawPath == "" {
		return singleJoiningSlash(a.Path, b.Path), ""
	}
	apath, bpath := a.EscapedPath(), b.EscapedPath()
	aslash, bslash := strings.HasSuffix(apath, "/"), strings.HasPrefix(bpath, "/")
	switch {
	case aslash && bslash:
		return a.Path + b.Path[1:], apath + bpath[1:]
	case !aslash && !bslash:
		return a.Path + "/" + b.Path, apath + "/" + bpath
	}
	return a.Path + b.Path, apath + bpath
}

// bufferPool lends the 32 KiB copy buffers of both paths (ReverseProxy
// allocated one per request without it).
type bufferPool struct{ pool sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{pool: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (b *bufferPool) get() *[]byte  { return b.pool.Get().(*[]byte) }
func (b *bufferPool) put(s *[]byte) { b.pool.Put(s) }

// Get and Put make it ReverseProxy's BufferPool.
func (b *bufferPool) Get() []byte  { return *b.get() }
func (b *bufferPool) Put(s []byte) { b.put(&s) }
