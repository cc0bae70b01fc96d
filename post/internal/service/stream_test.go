package service_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
)

// imageFirst is a multipart upload whose text fields follow the image
// part (uploads are streamed, so those are read after the image).
func imageFirst(image []byte, fields map[string]string) (contentType string, body []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("image", "photo.jpg")
	_, _ = fw.Write(image)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	_ = mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// TestFieldsAfterImage: fields sent after the streamed image count, and
// a bad one refuses the upload with nothing left stored.
func TestFieldsAfterImage(t *testing.T) {
	s := startStack(t, false, nil)
	_, token := s.account("alice")
	send := func(fields map[string]string) response {
		ct, body := imageFirst(s.photo("landscape.jpg"), fields)
		req, _ := http.NewRequest("POST", s.post.BaseURL+"/v1/posts", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		return s.send(req, token, true)
	}
	expect(t, send(map[string]string{"tags": "ok,not ok"}), 422)
	if rows, blobs := s.stored(); rows != 0 || blobs != 0 {
		t.Fatalf("a refused upload stored %d rows and %d blobs", rows, blobs)
	}
	p := expect(t, send(map[string]string{"caption": "after the image", "tags": "late"}), 202).post(t)
	if p["caption"] != "after the image" || len(p["tags"].([]any)) != 1 {
		t.Fatalf("fields after the image were lost: %v", p)
	}
}

// TestUploadBudget: an upload that finds the upload budget taken waits,
// then is refused with 503 and a Retry-After, storing nothing; once the
// budget is free again uploads pass.
func TestUploadBudget(t *testing.T) {
	// The budget holds one upload of the maximum size; a body of unknown
	// length is charged that maximum.
	s := startStack(t, false, map[string]string{
		"UPLOAD_MAX_BYTES": "1048576", "UPLOAD_BUDGET_BYTES": "1114112", "TRANSFER_WAIT": "2s",
	})
	_, token := s.account("alice")
	ct, body := imageFirst(s.photo("landscape.jpg"), nil)

	// A slow client: half of its body, then nothing until released.
	pr, pw := io.Pipe()
	held := make(chan response, 1)
	go func() {
		req, _ := http.NewRequest("POST", s.post.BaseURL+"/v1/posts", pr)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			held <- response{}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		held <- response{status: res.StatusCode, header: res.Header, body: b}
	}()
	_, _ = pw.Write(body[:len(body)/2])

	// Until the slow upload has its budget, another one may get it first:
	// retry until one is refused for the budget.
	var refused response
	s.waitFor("an upload refused for the budget", func() bool {
		req, _ := http.NewRequest("POST", s.post.BaseURL+"/v1/posts", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		refused = s.send(req, token, true)
		return refused.status == 503
	})
	if refused.header.Get("Retry-After") == "" {
		t.Fatalf("503 without Retry-After: %s", refused.body)
	}

	_, _ = pw.Write(body[len(body)/2:])
	_ = pw.Close()
	expect(t, <-held, 202)
	req, _ := http.NewRequest("POST", s.post.BaseURL+"/v1/posts", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	expect(t, s.send(req, token, true), 202)
}
