package httpserver

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"pixshare/platform/apperror"
)

// FormStream is a multipart/form-data body read as it arrives, for a file
// too large to hold: OpenForm reads the parts before the file part and
// stops there; File streams the file part; Finish reads the parts after
// it. Fields holds the text fields read so far.
type FormStream struct {
	Fields map[string][]string
	// File yields the file part's bytes. Past MaxFileBytes it fails with
	// a 413 apperror; an empty file part fails with a 422; a body that
	// breaks off fails with a 400 (or 413 past the body limit).
	File io.Reader

	r      *http.Request
	mr     *multipart.Reader
	lim    FormLimits
	wanted map[string]bool
	parts  int
}

// Field returns the first value of a text field, "" when absent.
func (f *FormStream) Field(name string) string {
	if v := f.Fields[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// OpenForm reads a multipart/form-data body up to its file part (named by
// lim.FileField), with the limits ReadForm applies. A body without a file
// part is read to its end and refused with 422.
func OpenForm(r *http.Request, lim FormLimits, fields ...string) (*FormStream, error) {
	f := &FormStream{Fields: map[string][]string{}, r: r, lim: lim, wanted: map[string]bool{}}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, apperror.Newf(apperror.UnsupportedMedia, "the body must be multipart/form-data with an %s part", lim.FileField)
	}
	if f.mr, err = r.MultipartReader(); err != nil {
		return nil, apperror.Wrap(apperror.Invalid, err, "malformed multipart body")
	}
	for _, name := range fields {
		f.wanted[name] = true
	}
	part, err := f.nextFile()
	if err != nil {
		return nil, err
	}
	if part == nil {
		return nil, apperror.Newf(apperror.Unprocessable, "an %s part is required", lim.FileField).
			WithFields(apperror.FieldError{Field: lim.FileField, Message: "required"})
	}
	f.File = &fileReader{part: part, lim: lim}
	return f, nil
}

// Finish reads the parts after the file part (text fields, unknown parts
// drained) and the body to its end, so a body cut short is refused. The
// file part must have been read to its end.
func (f *FormStream) Finish() error {
	part, err := f.nextFile()
	if err != nil {
		return err
	}
	if part != nil {
		return apperror.Invalidf("send exactly one %s part", f.lim.FileField)
	}
	// A body cut short after the last part (a client that declared more
	// than it sent and hung up) is refused.
	if _, err := io.Copy(io.Discard, f.r.Body); err != nil {
		return bodyError(err, "the request body ended before its declared length")
	}
	return nil
}

// nextFile reads parts until the file part, which it returns (nil at the
// end of the body).
func (f *FormStream) nextFile() (*multipart.Part, error) {
	for ; ; f.parts++ {
		part, err := f.mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, bodyError(err, "malformed multipart body")
		}
		if f.parts >= f.lim.MaxParts {
			return nil, apperror.Invalidf("too many multipart parts (at most %d)", f.lim.MaxParts)
		}
		name := part.FormName()
		switch {
		case name == f.lim.FileField:
			// The file name and the part's Content-Type are ignored: the
			// format is read from the bytes.
			f.parts++
			return part, nil
		case f.wanted[name]:
			b, err := io.ReadAll(io.LimitReader(part, f.lim.MaxFieldBytes+1))
			if err != nil {
				return nil, bodyError(err, "could not read a form field")
			}
			if int64(len(b)) > f.lim.MaxFieldBytes {
				return nil, apperror.Newf(apperror.Unprocessable, "form fields are limited to %d bytes", f.lim.MaxFieldBytes)
			}
			f.Fields[name] = append(f.Fields[name], string(b))
		default:
			// Unknown parts are drained and ignored (bounded by MaxParts
			// and the body limit).
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, bodyError(err, "malformed multipart body")
			}
		}
	}
}

// fileReader streams the file part within its limit.
type fileReader struct {
	part *multipart.Part
	lim  FormLimits
	n    int64
}

func (f *fileReader) Read(p []byte) (int, error) {
	if f.n > f.lim.MaxFileBytes {
		return 0, apperror.Newf(apperror.TooLarge, "%s exceeds %d bytes", f.lim.FileField, f.lim.MaxFileBytes)
	}
	// One byte past the limit tells a file exactly at it from a larger one.
	if rest := f.lim.MaxFileBytes + 1 - f.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := f.part.Read(p)
	f.n += int64(n)
	switch {
	case f.n > f.lim.MaxFileBytes:
		return 0, apperror.Newf(apperror.TooLarge, "%s exceeds %d bytes", f.lim.FileField, f.lim.MaxFileBytes)
	case errors.Is(err, io.EOF) && f.n == 0:
		return 0, apperror.Newf(apperror.Unprocessable, "an %s part is required", f.lim.FileField).
			WithFields(apperror.FieldError{Field: f.lim.FileField, Message: "required"})
	case err != nil && !errors.Is(err, io.EOF):
		return n, bodyError(err, "could not read the "+f.lim.FileField+" part")
	}
	return n, err
}
