package events

import (
	"errors"
	"time"

	"pixshare/platform/pubsub"
)

// Event types. Thumbnail requests go to the thumbnails topic, index
// changes to the search-index topic, PostDeleted to domain-events.
const (
	TypeThumbnailRequested = "post.thumbnail.requested"
	TypeIndexUpsert        = "post.index.upsert"
	TypeIndexRemove        = "post.index.remove"
	TypePostDeleted        = "post.deleted"
)

// MaxPostVersion bounds every post version: post refuses an edit that
// would take a post past MaxPostVersion-1 (leaving room for the bump of its
// deletion), so an index change above it never came from a post's real
// history and is poison. Without the bound a single forged removal at a huge
// version (2^62, say) would leave a tombstone no upsert or re-index could
// ever undo, since the read model keeps the highest version.
const MaxPostVersion int64 = 1_000_000

// ThumbnailRequested asks the thumbnailer to make every size of a post's
// image.
type ThumbnailRequested struct {
	PostID      string `json:"post_id"`
	AuthorID    string `json:"author_id"`
	Version     int64  `json:"version"`
	OriginalKey string `json:"original_key"`
	// OriginalBytes is the upload's length, so that the thumbnailer reads
	// it into a buffer of that size: the blob binding answers a read
	// without one. 0 when unknown (requests sent before it was added).
	OriginalBytes int64 `json:"original_bytes,omitempty"`
}

// IndexUpsert puts a post's searchable fields into the read model at
// Version; the read model keeps the highest version it has seen.
type IndexUpsert struct {
	PostID    string    `json:"post_id"`
	AuthorID  string    `json:"author_id"`
	Caption   string    `json:"caption"`
	AltText   string    `json:"alt_text,omitempty"`
	Tags      []string  `json:"tags"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// IndexRemove removes a post from the read model; Version is higher than
// every upsert of the post, so a late upsert cannot bring it back.
type IndexRemove struct {
	PostID   string `json:"post_id"`
	AuthorID string `json:"author_id"`
	Version  int64  `json:"version"`
}

// PostDeleted tells other services a post is gone (comments go with it).
type PostDeleted struct {
	PostID    string    `json:"post_id"`
	AuthorID  string    `json:"author_id"`
	DeletedAt time.Time `json:"deleted_at"`
}

func poison(msg string) error { return pubsub.Poison(errors.New(msg)) }

// ParseThumbnailRequested decodes a thumbnail request; anything unusable is
// a poison error for the consumer to dead-letter.
func ParseThumbnailRequested(data []byte) (ThumbnailRequested, error) {
	var e ThumbnailRequested
	if err := pubsub.Decode(data, &e); err != nil {
		return e, err
	}
	if e.PostID == "" || e.Version < 1 || e.OriginalKey == "" {
		return e, poison("thumbnail request lacks post_id, version or original_key")
	}
	if e.OriginalBytes < 0 {
		return e, poison("thumbnail request has a negative original_bytes")
	}
	return e, nil
}

// ParseIndexUpsert decodes an index upsert.
func ParseIndexUpsert(data []byte) (IndexUpsert, error) {
	var e IndexUpsert
	if err := pubsub.Decode(data, &e); err != nil {
		return e, err
	}
	if e.PostID == "" || e.AuthorID == "" || e.Version < 1 {
		return e, poison("index upsert lacks post_id, author_id or version")
	}
	if e.Tags == nil {
		e.Tags = []string{}
	}
	return e, nil
}

// ParseIndexRemove decodes an index removal.
func ParseIndexRemove(data []byte) (IndexRemove, error) {
	var e IndexRemove
	if err := pubsub.Decode(data, &e); err != nil {
		return e, err
	}
	if e.PostID == "" || e.Version < 1 {
		return e, poison("index removal lacks post_id or version")
	}
	return e, nil
}

// ParsePostDeleted decodes post.deleted.
func ParsePostDeleted(data []byte) (PostDeleted, error) {
	var e PostDeleted
	if err := pubsub.Decode(data, &e); err != nil {
		return e, err
	}
	if e.PostID == "" {
		return e, poison("post.deleted lacks post_id")
	}
	return e, nil
}
