// Package app holds the post service's use cases, talking to storage,
// blobs and the user service through the interfaces below.
package app

import (
	"context"
	"errors"
	"io"
	"time"

	"pixshare/contracts/userclient"
	"pixshare/platform/apperror"
	"pixshare/post/internal/domain"
)

// Repository stores posts. Every write that changes what other services
// must learn enqueues its events in the outbox in the same transaction.
type Repository interface {
	// Create stores a new post with its thumbnail request and index upsert,
	// and takes its original off the blob garbage; ErrDuplicateUpload when
	// the author already used its idempotency key, QuotaExceeded when the
	// author's live posts would take more than quota bytes (0: no quota).
	Create(ctx context.Context, p *domain.Post, quota int64) error
	// StoredBytes is the size of an author's live posts' originals.
	StoredBytes(ctx context.Context, authorID string) (int64, error)
	// MarkBlobsGarbage records that a post's blobs are garbage from now
	// (an upload about to store its original, a rendition written after
	// its post was deleted). Deleting a post marks them too.
	MarkBlobsGarbage(ctx context.Context, postID string) error
	// GarbageBefore lists posts whose blobs became garbage before `before`.
	GarbageBefore(ctx context.Context, before time.Time, limit int) ([]string, error)
	// BlobsCollected forgets a post's garbage once its blobs are deleted,
	// unless it was marked again since `before`.
	BlobsCollected(ctx context.Context, postID string, before time.Time) error
	// BlobOwners says, for each of ids that is or was a post, whether it
	// was deleted and when, and whether its blobs are marked as garbage.
	BlobOwners(ctx context.Context, ids []string) (map[string]BlobOwner, error)
	// ByIdempotencyKey returns the live post an author uploaded with key.
	ByIdempotencyKey(ctx context.Context, authorID, key string) (domain.Post, error)
	// ByID returns a live post, or domain.ErrNoPost.
	ByID(ctx context.Context, id string) (domain.Post, error)
	// ByIDs returns the live posts among ids, in no particular order.
	ByIDs(ctx context.Context, ids []string) ([]domain.Post, error)
	// Update applies change to a live post in a transaction; when publish
	// is true the new version is sent to the index.
	Update(ctx context.Context, id string, change func(*domain.Post) error, publish bool) (domain.Post, error)
	// Delete soft-deletes a live post and enqueues the index removal and
	// post.deleted.
	Delete(ctx context.Context, id string, check func(domain.Post) error) (domain.Post, error)
	// DeleteByAuthor deletes every live post of an author (user deletion),
	// with the same events per post. It returns the ids deleted.
	DeleteByAuthor(ctx context.Context, authorID string) ([]string, error)
	// Feed pages posts newest first: every post of `self`, and the ready
	// posts of `authors`.
	Feed(ctx context.Context, self string, authors []string, before string, limit int) ([]domain.Post, error)
	// ByAuthor pages an author's posts newest first; only ready ones unless
	// includeUnready (the author looking at their own).
	ByAuthor(ctx context.Context, authorID string, includeUnready bool, before string, limit int) ([]domain.Post, error)
	// All pages every live post by id (re-index).
	All(ctx context.Context, after string, limit int) ([]domain.Post, error)
	// Stale returns posts still processing since before `olderThan` that
	// were not re-requested since, for the reconciler.
	Stale(ctx context.Context, olderThan time.Time, limit int) ([]domain.Post, error)
	// Rerequest enqueues again what a stale post is missing.
	Rerequest(ctx context.Context, p domain.Post) error
	// Like and Unlike add or remove a user's like of a live post and its
	// count, in one transaction; both are idempotent.
	Like(ctx context.Context, postID, userID string) error
	Unlike(ctx context.Context, postID, userID string) error
	// RemoveLikesBy takes a deleted account's likes out of every count,
	// and returns the posts whose count it changed.
	RemoveLikesBy(ctx context.Context, userID string) ([]string, error)
	// LikedBy says which of postIDs userID likes.
	LikedBy(ctx context.Context, userID string, postIDs []string) (map[string]bool, error)
	// Likers pages who liked a post, newest first, leaving out exclude.
	Likers(ctx context.Context, postID string, exclude []string, before string, limit int) ([]domain.Like, error)
	// Timeline pages ready posts newest first (of one tag when tag is
	// set), leaving out the posts of exclude.
	Timeline(ctx context.Context, tag string, exclude []string, before string, limit int) ([]domain.Post, error)
	// CountComment counts a comment in (or, deleted, out of) a post's
	// comment_count exactly once, whatever the order of the events.
	CountComment(ctx context.Context, postID, commentID string, deleted bool) (bool, error)
}

// BlobOwner is what the sweeper knows of the post a blob belongs to.
type BlobOwner struct {
	Exists     bool
	DeletedAt  time.Time // zero while the post is live
	Collecting bool      // marked as garbage: the janitor's to delete
}

// QuotaExceeded is the problem of an upload that does not fit the
// author's storage quota.
func QuotaExceeded(used, quota int64) error {
	return apperror.Newf(apperror.QuotaExceeded, "storage quota exceeded: your posts take %d of your %d bytes; delete some to upload more", used, quota)
}

// ErrDuplicateUpload reports an upload whose idempotency key the author
// already used.
var ErrDuplicateUpload = errors.New("duplicate upload")

// Images stores image bytes.
type Images interface {
	// Write stores a stream under key and returns its length; an error of
	// src is returned as is, and then nothing is stored.
	Write(ctx context.Context, key string, src io.Reader) (int64, error)
	// Open returns the bytes under key as a stream, with their length
	// (-1: unknown); blob.ErrNotFound when there are none.
	Open(ctx context.Context, key string) (io.ReadCloser, int64, error)
	Delete(ctx context.Context, key string) error
	// List returns the keys under prefix ("uploads/").
	List(ctx context.Context, prefix string) ([]string, error)
}

// Author is what a post shows of its author (the user service\'s summary).
type Author = userclient.Summary

// Authors looks authors up in the user service, one call per page at most.
type Authors interface {
	// Get returns the live users among ids; deleted ones are left out.
	Get(ctx context.Context, ids []string) (map[string]Author, error)
}

// Graph answers questions about follows and blocks (the user service).
type Graph interface {
	Following(ctx context.Context, userID string) ([]string, error)
	// Blocked returns the users in a block relationship with userID.
	Blocked(ctx context.Context, userID string) ([]string, error)
	// IsBlocked reports whether viewer and other block each other.
	IsBlocked(ctx context.Context, viewer, other string) (bool, error)
}
