// Package domain holds what the thumbnailer knows of a post and of a
// request to make its renditions, and the rule deciding whether a request
// still needs work.
package domain

import "time"

// Post is the part of a post the thumbnailer needs.
type Post struct {
	ID             string
	Version        int64
	ThumbnailReady bool
}

// Request asks for every size of a post's image.
type Request struct {
	PostID      string
	Version     int64
	OriginalKey string
	// OriginalBytes is the upload's length as post recorded it, 0 when
	// the request did not say.
	OriginalBytes int64
	// Committed is when the upload committed (from the event id), zero when
	// unknown; it dates the time spent queued.
	Committed time.Time
}

// Skip says why a request needs no work, or "" when it does. It makes a
// request safe to deliver twice: a post that already has its thumbnails,
// or moved past the request's version, is acknowledged without work.
func (p Post) Skip(req Request) string {
	switch {
	case p.ThumbnailReady:
		return "thumbnails already made; duplicate request"
	case p.Version > req.Version:
		// A newer request for the same image exists (the reconciler sends
		// one with the current version); that one does the work.
		return "request for an older version; skipped"
	}
	return ""
}

// Rendition is one made copy of a post's image.
type Rendition struct {
	Name          string
	Width, Height int
	JPEG          []byte
}

// AvatarRequest asks for every size of a user's new avatar.
type AvatarRequest struct {
	UserID      string
	Version     int64
	OriginalKey string
}
