package httpserver

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"pixshare/platform/apperror"
)

// DecodeJSON reads one JSON object from the request body into dst.
//
// Unknown fields are refused rather than ignored, so a client sending
// `author_id` or `status` in an edit learns at once that they are not
// editable (mass assignment is impossible either way: dst only has the
// editable fields). Bodies over the route's limit are TooLarge.
func DecodeJSON(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return apperror.New(apperror.UnsupportedMedia, "request body must be application/json")
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var maxBytes *http.MaxBytesError
		if errors.As(err, &maxBytes) {
			return decodeError(err)
		}
		return apperror.Invalidf("request body must hold a single JSON object")
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		maxBytes *http.MaxBytesError
	)
	switch {
	case errors.As(err, &maxBytes):
		return apperror.Newf(apperror.TooLarge, "request body exceeds %d bytes", maxBytes.Limit)
	case errors.Is(err, io.EOF):
		return apperror.Invalidf("request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperror.Invalidf("request body is truncated JSON")
	case errors.As(err, &syntax):
		return apperror.Invalidf("malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "(body)"
		}
		return apperror.Invalidf("field %q must be %s", field, jsonKind(typeErr.Type.Kind().String())).
			WithFields(apperror.FieldError{Field: field, Message: "wrong type"})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperror.Invalidf("field %q is not accepted here", name).
			WithFields(apperror.FieldError{Field: name, Message: "unknown or read-only field"})
	default:
		return apperror.Wrap(apperror.Invalid, err, "invalid JSON body")
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "a boolean"
	default:
		return "a number"
	}
}
