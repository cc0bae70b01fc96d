// Package apitest is a small client of Pixshare's REST API for tests: the
// e2e suite drives the gateway with it, service tests drive one service.
package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"testing"
	"time"
)

// Client talks to a Pixshare REST API as an API client would.
type Client struct {
	t     *testing.T
	base  string
	Token string
	http  *http.Client
	// Check, when set, sees every exchange (tests validate responses
	// against the OpenAPI document with it).
	Check func(req *http.Request, res *http.Response, body []byte)
}

// New returns an anonymous client of the API at base.
func New(t *testing.T, base string) *Client {
	return &Client{t: t, base: base, http: &http.Client{Timeout: 60 * time.Second}}
}

// As returns a copy of c acting with token.
func (c *Client) As(token string) *Client {
	cp := *c
	cp.Token = token
	return &cp
}

// At returns a copy of c talking to the API at base (another replica, a
// service's own port) with the same token.
func (c *Client) At(base string) *Client {
	cp := *c
	cp.base = base
	return &cp
}

// From returns a copy of c whose connections leave from the loopback
// address ip (any 127.x.y.z): the services see another client, with
// per-client rate limits of its own.
func (c *Client) From(ip string) *Client {
	cp := *c
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	cp.http = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext}}
	return &cp
}

// Response is a received response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object.
func (r Response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("not a JSON object (status %d): %s", r.Status, r.Body)
	}
	return m
}

// Items returns the "items" of a list response.
func (r Response) Items(t *testing.T) []map[string]any {
	t.Helper()
	var l struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(r.Body, &l); err != nil {
		t.Fatalf("not a list: %s", r.Body)
	}
	return l.Items
}

// Do sends a JSON request.
func (c *Client) Do(method, path string, body any) Response {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req)
}

// Get sends a GET with the given request headers.
func (c *Client) Get(path string, header http.Header) Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return c.send(req)
}

func (c *Client) send(req *http.Request) Response {
	c.t.Helper()
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if c.Check != nil {
		c.Check(req, res, b)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Base is the URL the client talks to.
func (c *Client) Base() string { return c.base }

// Status sends a GET and returns only its status, or 0 when the exchange
// failed: safe in goroutines other than the test's (it never fails the
// test itself).
func (c *Client) Status(path string) int {
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		return 0
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode
}

// Expect sends a JSON request and fails unless the status matches.
func (c *Client) Expect(status int, method, path string, body any) Response {
	c.t.Helper()
	r := c.Do(method, path, body)
	if r.Status != status {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, status, r.Body)
	}
	return r
}

// Upload posts a picture with caption and tags.
func (c *Client) Upload(image []byte, caption, tags string) Response {
	c.t.Helper()
	return c.Multipart("POST", "/v1/posts", image, map[string]string{"caption": caption, "tags": tags})
}

// Multipart sends image as the `image` part with text fields.
func (c *Client) Multipart(method, path string, image []byte, fields map[string]string) Response {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("image", "photo")
	_, _ = fw.Write(image)
	_ = mw.Close()
	req, _ := http.NewRequest(method, c.base+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.send(req)
}

// Register creates an account and logs in; the client keeps the token.
func (c *Client) Register(name string) (id string) {
	c.t.Helper()
	u := c.Expect(201, "POST", "/v1/users/register", map[string]string{
		"username": name, "email": name + "@example.com", "password": "correct horse battery",
	}).JSON(c.t)
	l := c.Expect(200, "POST", "/v1/users/login", map[string]string{"username": name, "password": "correct horse battery"}).JSON(c.t)
	c.Token = l["access_token"].(string)
	return u["id"].(string)
}

// Eventually polls cond until it holds (the system is eventually
// consistent: thumbnails, index, caches).
func Eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
