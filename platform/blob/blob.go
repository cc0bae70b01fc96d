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
	// The status is somewhere down the chain (the SDK and the sidecar
	// connection wrap it).
	for e := err; e != nil; e = errors.Unwrap(e) {
		s, ok := e.(interface{ GRPCStatus() *status.Status })
		if !ok {
			continue
		}
		st := s.GRPCStatus()
		if st.Code() != codes.Internal {
			continue
		}
		msg, found := strings.CutPrefix(st.Message(), "error invoking output binding "+d.binding+": ")
		if !found {
			continue
		}
		for _, phrase := range []string{"file not found: ", "object not found", "blob not found"} {
			if strings.HasPrefix(msg, phrase) {
				return true
			}
		}
		// localstorage's delete of a missing file.
		if strings.HasPrefix(msg, "error deleting file ") && strings.HasSuffix(msg, ": no such file or directory") {
			return true
		}
	}
	return false
}
