package apperror

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for k := range kindNames {
		in := New(k, "message").WithFields(FieldError{Field: "f", Message: "m"})
		if k == RateLimited {
			in = in.WithRetryAfter(3 * time.Second)
		}
		out, ok := As(FromGRPC(ToGRPC(in)))
		if !ok || out.Kind != k {
			t.Errorf("%v did not survive a gRPC hop: %v", k, out)
			continue
		}
		if k != Internal && k != Unavailable && (out.Message != "message" || len(out.Fields) != 1) {
			t.Errorf("%v lost its message or fields: %+v", k, out)
		}
		if k == RateLimited && out.RetryAfter != 3*time.Second {
			t.Errorf("retry after lost: %v", out.RetryAfter)
		}
	}
}

func TestInternalDetailsStayInside(t *testing.T) {
	t.Parallel()
	st, _ := status.FromError(ToGRPC(errors.New("pq: password=hunter2")))
	if st.Code() != codes.Internal || st.Message() != "internal error" {
		t.Fatalf("an unclassified error leaked: %v", st)
	}
	back, _ := As(FromGRPC(status.Error(codes.Internal, "stack trace of the callee")))
	if back.Message != Title(Internal) {
		t.Fatalf("the callee's internal message leaked: %q", back.Message)
	}
}

func TestSidecarFailuresAreUnavailable(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{"circuit breaker is open", "failed to invoke: no host found with the given ID", "timeout waiting for response"} {
		if k := KindOf(FromGRPC(status.Error(codes.Unknown, msg))); k != Unavailable {
			t.Errorf("%q: %v, want Unavailable", msg, k)
		}
		if HTTPStatus(Unavailable) != http.StatusServiceUnavailable {
			t.Fatal("Unavailable must be 503")
		}
	}
	if k := KindOf(FromGRPC(status.Error(codes.Unknown, "something else"))); k != Internal {
		t.Errorf("an unknown error: %v, want Internal", k)
	}
}
