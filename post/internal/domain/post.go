// Package domain holds the post service's types and the rules they keep.
package domain

import (
	"strings"
	"time"
	"unicode/utf8"

	"pixshare/contracts/tags"
	"pixshare/platform/apperror"
)

// Status of a post's processing.
type Status string

// Post statuses.
const (
	StatusProcessing Status = "processing"
	StatusReady      Status = "ready"
	StatusFailed     Status = "failed"
)

// Post is an uploaded picture with its caption and tags.
type Post struct {
	ID       string
	AuthorID string
	Caption  string
	// AltText describes the picture for people who cannot see it.
	AltText        string
	Tags           []string
	Status         Status
	ThumbnailReady bool
	// IndexedVersion is the highest version the search index reported.
	IndexedVersion int64
	// Version goes up with every edit (and with deletion).
	Version     int64
	OriginalKey string
	// IdempotencyKey is the client's key for the upload, if it sent one.
	IdempotencyKey string
	Format         string
	Width          int
	Height         int
	// Size is the original's size in bytes (what the author's storage
	// quota counts; 0 for posts stored before sizes were kept).
	Size int64
	// RenditionBytes is the byte count of each stored rendition, by size
	// name, as the thumbnailer reported it (nil for posts made before
	// they were reported): image answers carry it as Content-Length.
	RenditionBytes map[string]int64
	CommentCount   int64
	LikeCount      int64
	FailedReason   string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Like is one user's like of a post.
type Like struct {
	ID        string
	UserID    string
	CreatedAt time.Time
}

// Indexed reports whether the search index holds the current version.
func (p Post) Indexed() bool { return p.IndexedVersion >= p.Version }

// Settle recomputes Status from the progress reports: ready once the
// thumbnails exist and the index holds the current version. A failure is
// final.
func (p *Post) Settle() {
	if p.Status == StatusFailed {
		return
	}
	if p.ThumbnailReady && p.Indexed() {
		p.Status = StatusReady
	} else {
		p.Status = StatusProcessing
	}
}

// MaxFailedReason bounds the reason a failed post keeps.
const MaxFailedReason = 500

// CheckReport refuses a worker's progress report about a version the post
// never had.
func (p Post) CheckReport(version int64) error {
	if version < 1 {
		return apperror.Invalidf("a positive version is required")
	}
	if version > p.Version {
		return apperror.Invalidf("version %d is newer than the post's %d", version, p.Version)
	}
	return nil
}

// MarkThumbnailsReady records that every size exists, and the upright
// (EXIF-oriented) dimensions of the image when known. Repeating it is
// harmless.
func (p *Post) MarkThumbnailsReady(width, height int, renditionBytes map[string]int64) {
	p.ThumbnailReady = true
	if width > 0 && height > 0 {
		p.Width, p.Height = width, height
	}
	if len(renditionBytes) > 0 {
		p.RenditionBytes = renditionBytes
	}
	p.Settle()
}

// MarkIndexed records that the search index holds version.
func (p *Post) MarkIndexed(version int64) {
	if version > p.IndexedVersion {
		p.IndexedVersion = version
	}
	p.Settle()
}

// Fail records that the image can never be processed. A post whose
// thumbnails exist cannot fail any more.
func (p *Post) Fail(reason string) {
	if p.ThumbnailReady {
		return
	}
	if len(reason) > MaxFailedReason {
		reason = reason[:MaxFailedReason]
	}
	p.Status = StatusFailed
	p.FailedReason = reason
}

// Limits of captions and tags.
const (
	CaptionMax = 2200
	AltTextMax = 1500
	TagsMax    = 30
)

// CheckCaption enforces the caption limit.
func CheckCaption(caption string) (string, error) {
	if !utf8.ValidString(caption) {
		return "", unprocessable("caption", "must be valid UTF-8")
	}
	caption = strings.TrimSpace(caption)
	if utf8.RuneCountInString(caption) > CaptionMax {
		return "", unprocessable("caption", "must be at most 2200 characters")
	}
	if strings.ContainsRune(caption, 0) {
		return "", unprocessable("caption", "must not contain NUL characters")
	}
	return caption, nil
}

// CheckAltText enforces the alt text limit (1,500 characters, printable
// text).
func CheckAltText(alt string) (string, error) {
	if !utf8.ValidString(alt) {
		return "", unprocessable("alt_text", "must be valid UTF-8")
	}
	alt = strings.TrimSpace(alt)
	if utf8.RuneCountInString(alt) > AltTextMax {
		return "", unprocessable("alt_text", "must be at most 1500 characters")
	}
	if strings.ContainsRune(alt, 0) {
		return "", unprocessable("alt_text", "must not contain NUL characters")
	}
	return alt, nil
}

// ParseTags normalises tags (see package tags) given as repeated values
// and/or comma-separated lists; at most 30 distinct tags.
func ParseTags(values []string) ([]string, error) {
	parsed, err := tags.Parse(values)
	if err != nil {
		return nil, unprocessable("tags", err.Error())
	}
	if len(parsed) > TagsMax {
		return nil, unprocessable("tags", "at most 30 distinct tags")
	}
	return parsed, nil
}

func unprocessable(field, msg string) error {
	return apperror.Newf(apperror.Unprocessable, "%s: %s", field, msg).
		WithFields(apperror.FieldError{Field: field, Message: msg})
}

// Errors of the post rules.
var (
	ErrNoPost    = apperror.New(apperror.NotFound, "post not found")
	ErrNotAuthor = apperror.New(apperror.Forbidden, "only the author may change this post")
)

// Edit is a validated change of caption and/or tags; nil fields stay.
type Edit struct {
	Caption *string
	AltText *string
	Tags    *[]string
}

// NewEdit validates an edit.
func NewEdit(caption, altText *string, tags *[]string) (Edit, error) {
	var e Edit
	if caption == nil && altText == nil && tags == nil {
		return e, apperror.Invalidf("nothing to change: send caption, alt_text and/or tags")
	}
	if altText != nil {
		a, err := CheckAltText(*altText)
		if err != nil {
			return e, err
		}
		e.AltText = &a
	}
	if caption != nil {
		c, err := CheckCaption(*caption)
		if err != nil {
			return e, err
		}
		e.Caption = &c
	}
	if tags != nil {
		t, err := ParseTags(*tags)
		if err != nil {
			return e, err
		}
		e.Tags = &t
	}
	return e, nil
}

// Apply changes p and bumps its version (so the index re-learns it).
func (e Edit) Apply(p *Post) {
	if e.Caption != nil {
		p.Caption = *e.Caption
	}
	if e.AltText != nil {
		p.AltText = *e.AltText
	}
	if e.Tags != nil {
		p.Tags = *e.Tags
	}
	p.Version++
	p.Settle()
}
