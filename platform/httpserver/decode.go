package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

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
	// The whole body is read first (the route's limit bounds it): JSON's
	// decoder would silently replace invalid UTF-8 and keep the last of
	// duplicated keys, and both are refused here instead.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var maxBytes *http.MaxBytesError
		if errors.As(err, &maxBytes) {
			return decodeError(err)
		}
		return apperror.Wrap(apperror.Invalid, err, "could not read the request body")
	}
	if !utf8.Valid(body) {
		return apperror.Invalidf("request body is not valid UTF-8")
	}
	if key := duplicateKey(body); key != "" {
		return apperror.Invalidf("field %q appears more than once", key).
			WithFields(apperror.FieldError{Field: key, Message: "duplicated"})
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return apperror.Invalidf("request body must hold a single JSON object")
	}
	return nil
}

// duplicateKey returns a key that appears twice in one JSON object of
// body, or "". Malformed JSON is left for the decoder to report.
func duplicateKey(body []byte) string {
	type frame struct {
		keys      map[string]bool // nil for arrays
		expectKey bool
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, &frame{keys: map[string]bool{}, expectKey: true})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				if n := len(stack); n > 0 && stack[n-1].keys != nil {
					stack[n-1].expectKey = true // a nested value ended
				}
			}
			continue
		}
		n := len(stack)
		if n == 0 || stack[n-1].keys == nil {
			continue
		}
		f := stack[n-1]
		if !f.expectKey {
			f.expectKey = true // a scalar value ended
			continue
		}
		key, _ := tok.(string)
		if f.keys[key] {
			return key
		}
		f.keys[key] = true
		f.expectKey = false
	}
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
