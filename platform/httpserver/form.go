package httpserver

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"pixshare/platform/apperror"
)

// FormLimits bound a multipart/form-data upload.
type FormLimits struct {
	// FileField names the one file part (e.g. "image"); it is required.
	FileField string
	// MaxFileBytes bounds the file part: beyond it, 413 before anything
	// is stored.
	MaxFileBytes int64
	// MaxParts bounds the number of parts (file, text fields, unknown
	// parts, which are drained and ignored).
	MaxParts int
	// MaxFieldBytes bounds each text field.
	MaxFieldBytes int64
}

// Form is a multipart/form-data body as read by ReadForm.
type Form struct {
	File   []byte
	Fields map[string][]string
}

// Field returns the first value of a text field, "" when absent.
func (f Form) Field(name string) string {
	if v := f.Fields[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// ReadForm reads a multipart/form-data body part by part: the file part up
// to its limit, the text fields named in fields (each up to its limit),
// the number of parts bounded; then reads the body to its end, so a body
// cut short is refused before anything is stored. Every refusal is a
// problem-ready apperror (400, 413, 415 or 422).
func ReadForm(r *http.Request, lim FormLimits, fields ...string) (Form, error) {
	form := Form{Fields: map[string][]string{}}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return form, apperror.Newf(apperror.UnsupportedMedia, "the body must be multipart/form-data with an %s part", lim.FileField)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return form, apperror.Wrap(apperror.Invalid, err, "malformed multipart body")
	}
	wanted := map[string]bool{}
	for _, f := range fields {
		wanted[f] = true
	}
	gotFile := false
	for parts := 0; ; parts++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return form, bodyError(err, "malformed multipart body")
		}
		if parts >= lim.MaxParts {
			return form, apperror.Invalidf("too many multipart parts (at most %d)", lim.MaxParts)
		}
		name := part.FormName()
		switch {
		case name == lim.FileField:
			if gotFile {
				return form, apperror.Invalidf("send exactly one %s part", lim.FileField)
			}
			gotFile = true
			// The file name and the part's Content-Type are ignored: the
			// format is read from the bytes.
			data, err := io.ReadAll(io.LimitReader(part, lim.MaxFileBytes+1))
			if err != nil {
				return form, bodyError(err, "could not read the "+lim.FileField+" part")
			}
			if int64(len(data)) > lim.MaxFileBytes {
				return form, apperror.Newf(apperror.TooLarge, "%s exceeds %d bytes", lim.FileField, lim.MaxFileBytes)
			}
			form.File = data
		case wanted[name]:
			b, err := io.ReadAll(io.LimitReader(part, lim.MaxFieldBytes+1))
			if err != nil {
				return form, bodyError(err, "could not read a form field")
			}
			if int64(len(b)) > lim.MaxFieldBytes {
				return form, apperror.Newf(apperror.Unprocessable, "form fields are limited to %d bytes", lim.MaxFieldBytes)
			}
			form.Fields[name] = append(form.Fields[name], string(b))
		default:
			// Unknown parts are drained and ignored (bounded by MaxParts
			// and the body limit).
			if _, err := io.Copy(io.Discard, part); err != nil {
				return form, bodyError(err, "malformed multipart body")
			}
		}
	}
	// A body cut short after the last part (a client that declared more
	// than it sent and hung up) is refused before anything is stored.
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return form, bodyError(err, "the request body ended before its declared length")
	}
	if !gotFile || len(form.File) == 0 {
		return form, apperror.Newf(apperror.Unprocessable, "an %s part is required", lim.FileField).
			WithFields(apperror.FieldError{Field: lim.FileField, Message: "required"})
	}
	return form, nil
}

// bodyError keeps the body limit's 413 and calls everything else malformed.
func bodyError(err error, msg string) error {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		return apperror.Newf(apperror.TooLarge, "request body exceeds %d bytes", maxBytes.Limit)
	}
	return apperror.Wrap(apperror.Invalid, err, msg)
}
