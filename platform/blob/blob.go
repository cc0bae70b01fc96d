// Package blob stores image bytes through a Dapr output binding (the
// `images` component): local storage when developing, S3, Azure Blob or
// GCS in production, chosen by component YAML.
package blob

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	dapr "github.com/dapr/go-sdk/client"

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
		if isNotFound(err) {
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
	if err != nil && !isNotFound(err) {
		return apperror.Wrap(apperror.Unavailable, fmt.Errorf("delete %s: %w", key, err), "image storage unavailable")
	}
	return nil
}

// isNotFound recognises the bindings' "no such blob" errors, which reach us
// only as text inside a gRPC Internal status.
func isNotFound(err error) bool {
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"file not found", "no such file", "nosuchkey", "blobnotfound", "object doesn't exist", "not found"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
