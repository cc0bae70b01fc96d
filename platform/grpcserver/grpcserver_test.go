package grpcserver

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"pixshare/platform/apperror"
)

func call(t *testing.T, icpt grpc.UnaryServerInterceptor, method string, md metadata.MD, handlerErr error) error {
	t.Helper()
	ctx := metadata.NewIncomingContext(context.Background(), md)
	_, err := icpt(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method}, func(context.Context, any) (any, error) {
		return nil, handlerErr
	})
	return err
}

func TestRequireToken(t *testing.T) {
	t.Parallel()
	icpt := requireToken("secret")
	tests := []struct {
		name   string
		method string
		md     metadata.MD
		ok     bool
	}{
		{"right token", "/user.v1.AuthService/Authenticate", metadata.Pairs("dapr-api-token", "secret"), true},
		{"proxied: caller's token first, ours appended", "/user.v1.AuthService/Authenticate", metadata.Pairs("dapr-api-token", "callers", "dapr-api-token", "secret"), true},
		{"missing", "/user.v1.AuthService/Authenticate", metadata.MD{}, false},
		{"wrong", "/user.v1.AuthService/Authenticate", metadata.Pairs("dapr-api-token", "guess"), false},
		{"OnInvoke is checked", "/dapr.proto.runtime.v1.AppCallback/OnInvoke", metadata.MD{}, false},
		{"the subscription list carries no token in Dapr 1.14", "/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions", metadata.MD{}, true},
		{"Dapr's app health check", "/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck", metadata.MD{}, true},
		{"health", "/grpc.health.v1.Health/Check", metadata.MD{}, true},
		{"an unknown AppCallback method is checked", "/dapr.proto.runtime.v1.AppCallback/Whatever", metadata.MD{}, false},
	}
	for _, tt := range tests {
		err := call(t, icpt, tt.method, tt.md, nil)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: code %v", tt.name, status.Code(err))
		}
	}
	if err := call(t, requireToken(""), "/x.Y/Z", metadata.MD{}, nil); err != nil {
		t.Errorf("no token configured: %v", err)
	}
}

// TestDeliveriesRefused: a delivery pushed to the port is refused with or
// without a token, whether or not one is configured: Pixshare apps take
// their events over their own subscription stream.
func TestDeliveriesRefused(t *testing.T) {
	t.Parallel()
	for _, m := range []string{
		"/dapr.proto.runtime.v1.AppCallback/OnTopicEvent",
		"/dapr.proto.runtime.v1.AppCallback/OnBindingEvent",
		"/dapr.proto.runtime.v1.AppCallbackAlpha/OnBulkTopicEventAlpha1",
		"/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1",
	} {
		for _, token := range []string{"", "secret"} {
			for _, md := range []metadata.MD{{}, metadata.Pairs("dapr-api-token", "secret")} {
				if err := call(t, requireToken(token), m, md, nil); status.Code(err) != codes.PermissionDenied {
					t.Errorf("%s (token %q, metadata %v): %v, want PermissionDenied", m, token, md, err)
				}
			}
		}
	}
}

func TestMapErrors(t *testing.T) {
	t.Parallel()
	err := call(t, mapErrors, "/x.Y/Z", nil, apperror.NotFoundf("post not found"))
	if status.Code(err) != codes.NotFound {
		t.Fatalf("code %v", status.Code(err))
	}
	back := apperror.FromGRPC(err)
	if !apperror.Is(back, apperror.NotFound) {
		t.Fatalf("round trip lost the kind: %v", back)
	}
	err = call(t, mapErrors, "/x.Y/Z", nil, apperror.New(apperror.Unprocessable, "bad"))
	if !apperror.Is(apperror.FromGRPC(err), apperror.Unprocessable) {
		t.Fatal("Unprocessable must survive a hop (FailedPrecondition alone is ambiguous)")
	}
	err = call(t, mapErrors, "/x.Y/Z", nil, context.DeadlineExceeded)
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("deadline: %v", err)
	}
}

func TestAllowCallers(t *testing.T) {
	t.Parallel()
	interceptor := allowCallers(Callers{"/svc/Guarded": {"worker"}})
	ok := func(context.Context, any) (any, error) { return "ok", nil }
	call := func(method string, ids ...string) error {
		ctx := context.Background()
		if len(ids) > 0 {
			md := metadata.MD{}
			for _, id := range ids {
				md.Append("dapr-caller-app-id", id)
			}
			ctx = metadata.NewIncomingContext(ctx, md)
		}
		_, err := interceptor(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method}, ok)
		return err
	}
	if err := call("/svc/Guarded", "worker"); err != nil {
		t.Fatalf("the allowed caller was refused: %v", err)
	}
	if err := call("/svc/Guarded", "intruder"); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("another app: %v", err)
	}
	// A caller claiming the allowed id first: its own sidecar appends the
	// true id after it.
	if err := call("/svc/Guarded", "worker", "intruder"); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a forged caller id was believed: %v", err)
	}
	// Through a sidecar, a method nobody listed is refused (deny by
	// default, as Dapr's access-control policies); a direct call without
	// a caller id (tests, the app's own tools) is not a sidecar's.
	if err := call("/svc/Unlisted", "worker"); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("an unlisted method was allowed through a sidecar: %v", err)
	}
	if err := call("/svc/Unlisted"); err != nil {
		t.Fatalf("a direct call without a caller id was refused: %v", err)
	}
}
