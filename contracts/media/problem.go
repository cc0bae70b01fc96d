package media

import (
	"errors"
	"fmt"

	"pixshare/platform/apperror"
)

// Problem turns an error of Inspect into the problem a client gets: 415 for
// a format that is not accepted, 422 for too many pixels or a corrupt
// picture, each naming the image field.
func Problem(err error, maxPixels int64) error {
	switch {
	case errors.Is(err, ErrUnsupportedFormat):
		return apperror.Wrap(apperror.UnsupportedMedia, err, "image must be JPEG, PNG, GIF or WebP").
			WithFields(apperror.FieldError{Field: "image", Message: "unsupported format"})
	case errors.Is(err, ErrTooManyPixels):
		return apperror.Wrap(apperror.Unprocessable, err, fmt.Sprintf("image has more than %d pixels", maxPixels)).
			WithFields(apperror.FieldError{Field: "image", Message: "too many pixels"})
	default:
		return apperror.Wrap(apperror.Unprocessable, err, "image is corrupt or truncated").
			WithFields(apperror.FieldError{Field: "image", Message: "unreadable"})
	}
}
