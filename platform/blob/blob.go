// Package blob stores image bytes through a Dapr output binding (the
// `images` component): local storage when developing, S3, Azure Blob or
// GCS in production, chosen by component YAML.
package blob

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"pixshare/platform/apperror"
)

// Store reads and writes blobs by key.
type Store interface {
	Put(ctx context.Context, key string, data []byte) error
	// Get returns ErrNotFound when no blob has the key.
	Get(ctx context.Context, key string) ([]byte, error)
	Delete(ctx context.Context, key string) error
}

// ErrNotFound means no blob has the key.
var ErrNotFound = errors.New("blob not found")

// Dapr is a Store on a Dapr binding.
//
// Data is sent base64-encoded: bindings.localstorage decodes base64 on
// create whenever the payload happens to be valid base64 (it would mangle
// a blob that is), so sending base64 always makes every write exact. Cloud
// bindings (S3, Azure Blob, GCS) are configured with decodeBase64: "true"
// in their component YAML to behave the same. Reads return raw bytes.
type Dapr struct {
	client  dapr.Client
	binding string
}

// NewDapr returns a Store on the binding component named binding.
func NewDapr(client dapr.Client, binding string) *Dapr {
	return &Dapr{client: client, binding: binding}
}

// Put implements Store.
func (d *Dapr) Put(ctx context.Context, key string, data []byte) error {
	enc := make([]byte, base64.StdEncoding.EncodedLen(len(data)))
	base64.StdEncoding.Encode(enc, data)
	err := d.client.InvokeOutputBinding(ctx, &dapr.InvokeBindingRequest{
		Name:      d.binding,
		Operation: "create",
		Data:      enc,
		Metadata:  map[string]string{"fileName": key, "key": key},
	})
	if err != nil {
		return apperror.Wrap(apperror.Unavailable, fmt.Errorf("put %s: %w", key, err), "image storage unavailable")
	}
	return nil
}

// Get implements Store.
func (d *Dapr) Get(ctx context.Context, key string) ([]byte, error) {
	res, err := d.client.InvokeBinding(ctx, &dapr.InvokeBindingRequest{
		Name:      d.binding,
		Operation: "get",
		Metadata:  map[string]string{"fileName": key, "key": key},
	})
	if err != nil {
		if d.isNotFound(err) {
			return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
		}
		return nil, apperror.Wrap(apperror.Unavailable, fmt.Errorf("get %s: %w", key, err), "image storage unavailable")
	}
	return res.Data, nil
}

// Delete implements Store. Deleting a missing blob is not an error.
func (d *Dapr) Delete(ctx context.Context, key string) error {
	err := d.client.InvokeOutputBinding(ctx, &dapr.InvokeBindingRequest{
		Name:      d.binding,
		Operation: "delete",
		Metadata:  map[string]string{"fileName": key, "key": key},
	})
	if err != nil && !d.isNotFound(err) {
		return apperror.Wrap(apperror.Unavailable, fmt.Errorf("delete %s: %w", key, err), "image storage unavailable")
	}
	return nil
}

// isNotFound recognises a binding's "no such blob". Dapr 1.14 gives no
// status code of its own for it: a failed output binding is always
// codes.Internal, "error invoking output binding <name>: <the component's
// error>". So the code, the prefix with this binding's name and the exact
// phrase of each supported component (localstorage, S3, Azure Blob, GCS)
// must all match: a sidecar or component that fails any other way (a
// missing component, a network error) is an outage, not an absent blob.
func (d *Dapr) isNotFound(err error) bool {
	msg, ok := d.bindingFailure(err)
	return ok && notFoundPhrase(msg)
}

// notFoundPhrase says whether a component's own message is its "no such
// blob".
func notFoundPhrase(msg string) bool {
	for _, phrase := range []string{"file not found: ", "object not found", "blob not found"} {
		if strings.HasPrefix(msg, phrase) {
			return true
		}
	}
	// localstorage's delete of a missing file.
	return strings.HasPrefix(msg, "error deleting file ") && strings.HasSuffix(msg, ": no such file or directory")
}

// notFoundMessage says whether the sidecar's whole message for a failed
// call of binding (the HTTP API carries the same text as the gRPC one) is
// a component's "no such blob".
func notFoundMessage(binding, msg string) bool {
	msg, found := strings.CutPrefix(msg, "error invoking output binding "+binding+": ")
	return found && notFoundPhrase(msg)
}

// bindingFailure returns the component's own message when err is this
// binding's failure as the sidecar reports it (codes.Internal, "error
// invoking output binding <name>: <message>"), somewhere down the chain
// (the SDK and the sidecar connection wrap it).
func (d *Dapr) bindingFailure(err error) (string, bool) {
	for e := err; e != nil; e = errors.Unwrap(e) {
		s, ok := e.(interface{ GRPCStatus() *status.Status })
		if !ok {
			continue
		}
		st := s.GRPCStatus()
		if st.Code() != codes.Internal {
			continue
		}
		if msg, found := strings.CutPrefix(st.Message(), "error invoking output binding "+d.binding+": "); found {
			return msg, true
		}
	}
	return "", false
}

// isMissingDir recognises localstorage's list of a directory not made yet:
// its own failure, carrying the system's ENOENT text, and nothing else.
func (d *Dapr) isMissingDir(err error) bool {
	msg, ok := d.bindingFailure(err)
	return ok && strings.Contains(msg, "no such file or directory")
}

// listPage is how many keys one list call asks for; listPages bounds one
// List (a sweep takes the rest next time).
const (
	listPage  = 1000
	listPages = 100
)

// List returns the keys under prefix ("uploads/"), relative to the
// binding's root, through the binding's list operation, up to listPages
// pages. The components answer in their own shapes (localstorage: a JSON
// array of file paths under its root; S3: ListObjects' output with
// Contents[].Key; Azure Blob and GCS: lists of objects with their names),
// so every string of the answer that holds prefix at the start of a path
// segment counts as a key, cut from there. The request names the prefix
// both ways the components read it: the "fileName" metadata
// (localstorage lists that directory) and a JSON payload with prefix,
// maxResults and marker (S3, Azure Blob, GCS).
func (d *Dapr) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	seen := map[string]bool{}
	marker := ""
	for range listPages {
		payload, err := json.Marshal(map[string]any{"prefix": prefix, "maxResults": listPage, "marker": marker})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		res, err := d.client.InvokeBinding(ctx, &dapr.InvokeBindingRequest{
			Name:      d.binding,
			Operation: "list",
			Data:      payload,
			Metadata:  map[string]string{"fileName": strings.TrimSuffix(prefix, "/")},
		})
		if err != nil {
			if d.isNotFound(err) || d.isMissingDir(err) {
				return keys, nil // nothing stored under prefix yet (localstorage: no directory)
			}
			return nil, apperror.Wrap(apperror.Unavailable, fmt.Errorf("list %s: %w", prefix, err), "image storage unavailable")
		}
		var answer any
		if err := json.Unmarshal(res.Data, &answer); err != nil {
			return nil, fmt.Errorf("list %s: the binding's answer is not JSON: %w", prefix, err)
		}
		fresh, last := 0, ""
		for _, k := range keysIn(answer, prefix, nil) {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
				fresh++
			}
			last = max(last, k)
		}
		// A full page of new keys continues after the greatest (the cloud
		// stores list in key order; localstorage lists everything at once,
		// and a second call finds nothing new).
		if fresh < listPage {
			return keys, nil
		}
		marker = last
	}
	return keys, nil
}

// keysIn collects, depth first in document order, every string in v that
// holds prefix at the start of a path segment, cut from there.
func keysIn(v any, prefix string, out []string) []string {
	switch v := v.(type) {
	case string:
		if strings.Contains(v, "://") {
			return out // a URL to the object (GCS's mediaLink), not its name
		}
		for i := 0; ; {
			j := strings.Index(v[i:], prefix)
			if j < 0 {
				return out
			}
			if at := i + j; (at == 0 || v[at-1] == '/' || v[at-1] == '\\') && len(v) > at+len(prefix) {
				return append(out, filepath.ToSlash(v[at:]))
			}
			i += j + 1
		}
	case []any:
		for _, e := range v {
			out = keysIn(e, prefix, out)
		}
	case map[string]any:
		names := make([]string, 0, len(v))
		for k := range v {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			out = keysIn(v[k], prefix, out)
		}
	}
	return out
}
