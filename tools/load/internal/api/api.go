// Package api is the small client of Pixshare's public REST API that the
// load tool seeds and polls with (the measured traffic itself goes through
// vegeta, with requests built by package mix).
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Password is the password of every account the tool registers.
const Password = "correct horse battery"

// Client talks to the API at Base.
type Client struct {
	Base string
	HTTP *http.Client
}

// New returns a client of the API at base.
func New(base string) *Client {
	return &Client{
		Base: strings.TrimRight(base, "/"),
		HTTP: &http.Client{
			Timeout:   60 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second},
		},
	}
}

// StatusError is an answer with an unexpected status.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// Do sends a request and decodes a JSON answer into out (when not nil). A
// status other than want is a *StatusError.
func (c *Client) Do(ctx context.Context, method, path, token string, body io.Reader, contentType string, header http.Header, want int, out any) error {
	_, err := c.do(ctx, method, path, token, body, contentType, header, want, out)
	return err
}

// do is Do, also returning the answer's header (nil when none came).
func (c *Client) do(ctx context.Context, method, path, token string, body io.Reader, contentType string, header http.Header, want int, out any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, path, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return res.Header, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if res.StatusCode != want {
		return res.Header, &StatusError{Method: method, Path: path, Status: res.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return res.Header, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return res.Header, nil
}

// JSON sends body as JSON.
func (c *Client) JSON(ctx context.Context, method, path, token string, body any, want int, out any) error {
	var rd io.Reader
	ct := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd, ct = bytes.NewReader(b), "application/json"
	}
	return c.Do(ctx, method, path, token, rd, ct, nil, want, out)
}

// User is a registered, logged-in account.
type User struct {
	ID    string
	Name  string
	Token string
}

// Register creates the account name and logs it in.
func (c *Client) Register(ctx context.Context, name string) (User, error) {
	var u struct {
		ID string `json:"id"`
	}
	err := c.JSON(ctx, http.MethodPost, "/v1/users/register", "",
		map[string]string{"username": name, "email": name + "@example.com", "password": Password}, http.StatusCreated, &u)
	if err != nil {
		return User{}, fmt.Errorf("register %s: %w", name, err)
	}
	token, err := c.Login(ctx, name)
	if err != nil {
		return User{}, err
	}
	return User{ID: u.ID, Name: name, Token: token}, nil
}

// Login returns an access token of the account name.
func (c *Client) Login(ctx context.Context, name string) (string, error) {
	var l struct {
		AccessToken string `json:"access_token"`
	}
	err := c.JSON(ctx, http.MethodPost, "/v1/users/login", "", LoginBody(name), http.StatusOK, &l)
	if err != nil {
		return "", fmt.Errorf("log in %s: %w", name, err)
	}
	return l.AccessToken, nil
}

// LoginBody is the login request of the account name.
func LoginBody(name string) map[string]string {
	return map[string]string{"username": name, "password": Password}
}

// Follow makes the token's user follow id.
func (c *Client) Follow(ctx context.Context, token, id string) error {
	return c.JSON(ctx, http.MethodPut, "/v1/users/"+id+"/follow", token, nil, http.StatusNoContent, nil)
}

// Post is the part of a post the tool reads.
type Post struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// UploadBody is the multipart body of an upload and its content type.
func UploadBody(image []byte, caption string, tags []string) ([]byte, string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("caption", caption); err != nil {
		return nil, "", fmt.Errorf("write caption: %w", err)
	}
	if err := mw.WriteField("tags", strings.Join(tags, ",")); err != nil {
		return nil, "", fmt.Errorf("write tags: %w", err)
	}
	fw, err := mw.CreateFormFile("image", "photo")
	if err != nil {
		return nil, "", fmt.Errorf("create image part: %w", err)
	}
	if _, err := fw.Write(image); err != nil {
		return nil, "", fmt.Errorf("write image: %w", err)
	}
	if err := mw.Close(); err != nil {
		return nil, "", fmt.Errorf("close multipart body: %w", err)
	}
	return buf.Bytes(), mw.FormDataContentType(), nil
}

// Upload posts image with an Idempotency-Key, so a retried seed never
// makes a second post.
func (c *Client) Upload(ctx context.Context, token string, image []byte, caption string, tags []string, key string) (Post, error) {
	body, ct, err := UploadBody(image, caption, tags)
	if err != nil {
		return Post{}, err
	}
	var p Post
	h := http.Header{"Idempotency-Key": {key}}
	if err := c.Do(ctx, http.MethodPost, "/v1/posts", token, bytes.NewReader(body), ct, h, http.StatusAccepted, &p); err != nil {
		return Post{}, fmt.Errorf("upload: %w", err)
	}
	return p, nil
}

// GetPost reads a post as the token's user.
func (c *Client) GetPost(ctx context.Context, token, id string) (Post, error) {
	var p Post
	err := c.JSON(ctx, http.MethodGet, "/v1/posts/"+id, token, nil, http.StatusOK, &p)
	return p, err
}

// WaitPost reads a post, asking the server to answer only once a post
// still processing moved on, or after wait ("Prefer: wait", whole seconds,
// at least one). waited reports whether the server said it waited
// ("Preference-Applied"); a server that did not answered at once.
func (c *Client) WaitPost(ctx context.Context, token, id string, wait time.Duration) (p Post, waited bool, err error) {
	secs := max(int64(wait/time.Second), 1)
	h, err := c.do(ctx, http.MethodGet, "/v1/posts/"+id, token, nil, "",
		http.Header{"Prefer": {"wait=" + strconv.FormatInt(secs, 10)}}, http.StatusOK, &p)
	return p, err == nil && strings.HasPrefix(h.Get("Preference-Applied"), "wait="), err
}

// Comment writes a comment on post id.
func (c *Client) Comment(ctx context.Context, token, id, body string) error {
	return c.JSON(ctx, http.MethodPost, "/v1/posts/"+id+"/comments", token, map[string]string{"body": body}, http.StatusCreated, nil)
}
