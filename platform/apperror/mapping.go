package apperror

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The one table from kinds to transports. FromGRPC inverts the gRPC column.
var table = map[Kind]struct {
	http  int
	code  codes.Code
	title string
}{
	Internal:         {http.StatusInternalServerError, codes.Internal, "Internal error"},
	Invalid:          {http.StatusBadRequest, codes.InvalidArgument, "Invalid request"},
	Unprocessable:    {http.StatusUnprocessableEntity, codes.FailedPrecondition, "Unprocessable request"},
	NotFound:         {http.StatusNotFound, codes.NotFound, "Not found"},
	Conflict:         {http.StatusConflict, codes.AlreadyExists, "Conflict"},
	Unauthenticated:  {http.StatusUnauthorized, codes.Unauthenticated, "Unauthenticated"},
	Forbidden:        {http.StatusForbidden, codes.PermissionDenied, "Forbidden"},
	TooLarge:         {http.StatusRequestEntityTooLarge, codes.ResourceExhausted, "Request too large"},
	UnsupportedMedia: {http.StatusUnsupportedMediaType, codes.Unimplemented, "Unsupported media type"},
	RateLimited:      {http.StatusTooManyRequests, codes.ResourceExhausted, "Too many requests"},
	Unavailable:      {http.StatusServiceUnavailable, codes.Unavailable, "Service unavailable"},
	MethodNotAllowed: {http.StatusMethodNotAllowed, codes.Unimplemented, "Method not allowed"},
	QuotaExceeded:    {http.StatusForbidden, codes.ResourceExhausted, "Quota exceeded"},
}

// HTTPStatus is the HTTP status of a kind.
func HTTPStatus(k Kind) int {
	if row, ok := table[k]; ok {
		return row.http
	}
	return http.StatusInternalServerError
}

// Title is the short, fixed problem title of a kind.
func Title(k Kind) string {
	if row, ok := table[k]; ok {
		return row.title
	}
	return table[Internal].title
}

// GRPCCode is the gRPC status code of a kind.
func GRPCCode(k Kind) codes.Code {
	if row, ok := table[k]; ok {
		return row.code
	}
	return codes.Internal
}

// reasonDomain tags the ErrorInfo detail that carries the exact kind across
// gRPC, since some codes are shared by two kinds.
const reasonDomain = "pixshare"

// ToGRPC converts err into a gRPC status error. Context errors keep their
// standard codes; errors without a kind become Internal with a generic
// message so internals never leak to callers.
func ToGRPC(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		if _, isApp := As(err); !isApp {
			return err
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	e, ok := As(err)
	if !ok {
		return status.Error(codes.Internal, "internal error")
	}
	st := status.New(GRPCCode(e.Kind), e.Message)
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: e.Kind.String(), Domain: reasonDomain}}
	if e.RetryAfter > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryAfter)})
	}
	for _, f := range e.Fields {
		details = append(details, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: f.Field, Description: f.Message},
		}})
	}
	if withDetails, derr := st.WithDetails(details...); derr == nil {
		st = withDetails
	}
	return st.Err()
}

// FromGRPC converts an error returned by a gRPC call back into an *Error, so
// a kind survives a hop between services. Transport failures (the callee or
// its sidecar unreachable) become Unavailable.
func FromGRPC(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	kind := kindFromCode(st.Code())
	if st.Code() == codes.Unknown && daprUnavailable(st.Message()) {
		kind = Unavailable
	}
	out := &Error{Message: st.Message(), cause: err}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.GetDomain() == reasonDomain {
				if k, found := kindBySlug(d.GetReason()); found {
					kind = k
				}
			}
		case *errdetails.RetryInfo:
			out.RetryAfter = d.GetRetryDelay().AsDuration()
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				out.Fields = append(out.Fields, FieldError{Field: v.GetField(), Message: v.GetDescription()})
			}
		}
	}
	out.Kind = kind
	if kind == Internal || kind == Unavailable {
		// The callee's message describes its internals; ours stays generic.
		out.Message = Title(kind)
	}
	return out
}

func kindFromCode(c codes.Code) Kind {
	switch c {
	case codes.InvalidArgument, codes.OutOfRange:
		return Invalid
	case codes.FailedPrecondition:
		return Unprocessable
	case codes.NotFound:
		return NotFound
	case codes.AlreadyExists, codes.Aborted:
		return Conflict
	case codes.Unauthenticated:
		return Unauthenticated
	case codes.PermissionDenied:
		return Forbidden
	case codes.ResourceExhausted:
		return RateLimited
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return Unavailable
	default:
		return Internal
	}
}

// daprUnavailable recognises the sidecar's own failures, which Dapr 1.14
// reports with code Unknown: an open circuit breaker, a target app it
// cannot resolve or reach, a resiliency timeout.
func daprUnavailable(msg string) bool {
	for _, s := range []string{"circuit breaker is open", "no host found", "too many requests", "timeout", "connection refused", "error while dialing"} {
		if strings.Contains(strings.ToLower(msg), s) {
			return true
		}
	}
	return false
}

func kindBySlug(slug string) (Kind, bool) {
	for k, s := range kindNames {
		if s == slug {
			return k, true
		}
	}
	return Internal, false
}

// RetryAfterHeader formats d as the value of an HTTP Retry-After header
// (whole seconds, at least 1).
func RetryAfterHeader(d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return strconv.Itoa(secs)
}
