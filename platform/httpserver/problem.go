package httpserver

import (
	"encoding/json"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"pixshare/platform/apperror"
	"pixshare/platform/logging"
)

// ProblemContentType is the media type of RFC 9457 problem documents.
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem document with Pixshare's extensions.
type Problem struct {
	Type      string                `json:"type"`
	Title     string                `json:"title"`
	Status    int                   `json:"status"`
	Detail    string                `json:"detail,omitempty"`
	Instance  string                `json:"instance,omitempty"`
	RequestID string                `json:"request_id,omitempty"`
	Errors    []apperror.FieldError `json:"errors,omitempty"`
}

// ProblemTypeBase prefixes every problem type; docs/api.md describes each.
const ProblemTypeBase = "https://pixshare.dev/problems/"

// WriteError writes err as a problem document. Errors without a kind are
// logged (once, here at the edge) and answered with a generic 500, so no
// internal detail reaches the client.
func WriteError(w http.ResponseWriter, r *http.Request, fallback *zap.Logger, err error) {
	e, ok := apperror.As(err)
	if !ok {
		e = apperror.Wrap(apperror.Internal, err, "internal error")
	}
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		e = apperror.Newf(apperror.TooLarge, "request body exceeds %d bytes", maxBytes.Limit)
	}
	if fallback == nil {
		fallback = zap.NewNop()
	}
	log := logging.FromContext(r.Context(), fallback)
	switch {
	case e.Kind == apperror.Internal:
		log.Error("request failed", zap.Error(err))
		e = apperror.New(apperror.Internal, "internal error")
	case e.Kind == apperror.Unavailable:
		log.Warn("dependency unavailable", zap.Error(err))
	}
	status := apperror.HTTPStatus(e.Kind)
	p := Problem{
		Type:      ProblemTypeBase + e.Kind.String(),
		Title:     apperror.Title(e.Kind),
		Status:    status,
		Detail:    e.Message,
		Instance:  r.URL.Path,
		RequestID: RequestID(r.Context()),
		Errors:    e.Fields,
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", apperror.RetryAfterHeader(e.RetryAfter))
	}
	w.Header().Set("Content-Type", ProblemContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
