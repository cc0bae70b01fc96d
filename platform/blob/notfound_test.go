package blob

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Only this binding's own "no such blob", as the sidecar reports it, is an
// absent blob: any other error whose text says "not found" (a missing
// component, another binding, a network failure) is an outage.
func TestIsNotFoundMatchesOnlyTheBindingsAbsentBlob(t *testing.T) {
	t.Parallel()
	d := &Dapr{binding: "images"}
	wrap := func(e error) error { return fmt.Errorf("invoke binding: %w", e) }
	internal := func(msg string) error { return wrap(status.Error(codes.Internal, msg)) }
	yes := []error{
		internal("error invoking output binding images: file not found: /data/images/uploads/a"),
		internal("error invoking output binding images: object not found"),
		internal("error invoking output binding images: blob not found"),
		internal("error invoking output binding images: error deleting file /x/a: remove /x/a: no such file or directory"),
	}
	no := []error{
		errors.New("file not found: /data/images/uploads/a"),
		internal("output binding images not found"),
		internal("error invoking output binding other: file not found: /x"),
		wrap(status.Error(codes.NotFound, "error invoking output binding images: object not found")),
		wrap(status.Error(codes.Unavailable, "connection refused: route not found")),
		internal("error invoking output binding images: dial tcp: lookup s3: host not found"),
	}
	for _, err := range yes {
		if !d.isNotFound(err) {
			t.Errorf("not recognised as absent: %v", err)
		}
	}
	for _, err := range no {
		if d.isNotFound(err) {
			t.Errorf("taken for an absent blob: %v", err)
		}
	}
	if !d.isMissingDir(internal("error invoking output binding images: open /x/uploads: no such file or directory")) ||
		d.isMissingDir(errors.New("open /x: no such file or directory")) {
		t.Error("isMissingDir must match only this binding's own ENOENT")
	}
}
