package api

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"testing"
)

func TestUploadBodyIsTheFormThePostServiceReads(t *testing.T) {
	t.Parallel()
	img := []byte("\xff\xd8\xffpicture bytes")
	body, ct, err := UploadBody(img, "Golden hour", []string{"sunset", "sea"})
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("content type %q: %v", ct, err)
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	got := map[string]string{}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		got[p.FormName()] = string(b)
	}
	if got["caption"] != "Golden hour" || got["tags"] != "sunset,sea" || got["image"] != string(img) {
		t.Fatalf("form %q", got)
	}
}

func TestStatusErrorSaysWhatFailed(t *testing.T) {
	t.Parallel()
	err := &StatusError{Method: "POST", Path: "/v1/users/register", Status: 429, Body: "slow down"}
	if got := err.Error(); got != "POST /v1/users/register: status 429: slow down" {
		t.Fatalf("%q", got)
	}
}
