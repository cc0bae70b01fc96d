package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"pixshare/contracts/media"
	"pixshare/platform/logging"
)

// Blob lifecycle. A post's blobs are its original (uploads/<id>) and its
// renditions (renditions/<id>/<size>.jpg). They become garbage when the
// post is deleted (alone or with its account), or when an upload stored
// its original and never became a post. The soft-deleted row stays, as
// the data rules require; the bytes (with whatever the upload carried,
// GPS included) go after BlobGrace, through the images binding's delete
// operation, so the same code serves local storage, S3, Azure Blob and
// GCS.

// collectBatch bounds one janitor round.
const collectBatch = 100

// postKeys are every key a post's blobs can have, the renditions'
// directory last (local storage keeps directories; cloud stores answer a
// missing key with success or not-found, both fine).
func postKeys(id string) []string {
	keys := []string{media.OriginalKey(id)}
	for _, size := range media.Sizes() {
		keys = append(keys, media.RenditionKey(id, size))
	}
	return append(keys, "renditions/"+id)
}

// CollectGarbage deletes the blobs of posts that became garbage more than
// BlobGrace before now. It returns how many posts' blobs went.
func (s *Service) CollectGarbage(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.Add(-s.cfg.BlobGrace)
	ids, err := s.repo.GarbageBefore(ctx, cutoff, collectBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if err := s.deleteKeys(ctx, postKeys(id)); err != nil {
			return n, err
		}
		if err := s.repo.BlobsCollected(ctx, id, cutoff); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (s *Service) deleteKeys(ctx context.Context, keys []string) error {
	for _, key := range keys {
		if err := s.images.Delete(ctx, key); err != nil {
			return fmt.Errorf("delete blob %s: %w", key, err)
		}
	}
	return nil
}

// SweepOrphans lists the blob store and deletes what no live post owns
// and nothing else will delete: blobs of a post deleted more than
// BlobGrace ago whose garbage record is gone (renditions a worker wrote
// after the janitor ran), and blobs of a post id never committed whose id
// (a UUIDv7, which carries its time) is older than BlobGrace. Keys that do
// not name a post id of ours are left alone. It returns how many keys it
// deleted.
func (s *Service) SweepOrphans(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.Add(-s.cfg.BlobGrace)
	byPost := map[string][]string{}
	for _, prefix := range []string{"uploads/", "renditions/"} {
		keys, err := s.images.List(ctx, prefix)
		if err != nil {
			return 0, err
		}
		for _, key := range keys {
			id, _, _ := strings.Cut(strings.TrimPrefix(key, prefix), "/")
			if _, err := uuid.Parse(id); err == nil {
				byPost[id] = append(byPost[id], key)
			}
		}
	}
	ids := make([]string, 0, len(byPost))
	for id := range byPost {
		ids = append(ids, id)
	}
	owners, err := s.repo.BlobOwners(ctx, ids)
	if err != nil {
		return 0, err
	}
	n := 0
	for id, keys := range byPost {
		if !orphaned(id, owners[id], cutoff) {
			continue
		}
		if err := s.deleteKeys(ctx, append(keys, "renditions/"+id)); err != nil {
			if errors.Is(err, context.Canceled) {
				return n, err
			}
			logging.FromContext(ctx, s.logger).Warn("orphan blobs not deleted", zap.String("post_id", id), zap.Error(err))
			continue
		}
		n += len(keys)
	}
	return n, nil
}

// orphaned decides whether the blobs of post id go.
func orphaned(id string, owner BlobOwner, cutoff time.Time) bool {
	switch {
	case owner.Collecting:
		return false // the janitor's, on its own schedule
	case owner.Exists:
		return !owner.DeletedAt.IsZero() && owner.DeletedAt.Before(cutoff)
	}
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 {
		return false // no way to tell its age: never ours to guess
	}
	sec, nsec := u.Time().UnixTime()
	return time.Unix(sec, nsec).Before(cutoff)
}
