package adapters

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"pixshare/platform/database"
	"pixshare/post/internal/app"
)

// blobGarbageRow says a post's blobs (original and renditions) are
// garbage since a moment: the post was deleted then, or an upload stored
// its original then and has not become a post (yet, or ever: its insert
// failed, or the process died between storing and inserting). The
// janitor deletes them once the grace period has passed since.
type blobGarbageRow struct {
	PostID string    `gorm:"primaryKey;size:36"`
	Since  time.Time `gorm:"not null;index"`
}

func (blobGarbageRow) TableName() string { return "blob_garbage" }

// markGarbage records (or moves forward) that a post's blobs are garbage
// since `since`.
func markGarbage(tx *gorm.DB, postID string, since time.Time) error {
	return tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "post_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"since"}),
	}).Create(&blobGarbageRow{PostID: postID, Since: since}).Error
}

// storedBytes is what an author's live posts take in the blob store (their
// originals; renditions are a bounded fraction more).
func storedBytes(tx *gorm.DB, authorID string) (int64, error) {
	var used int64
	err := tx.Model(&postRow{}).Where("author_id = ?", authorID).Select("COALESCE(SUM(size_bytes), 0)").Scan(&used).Error
	return used, err
}

// StoredBytes implements app.Repository.
func (r *Repository) StoredBytes(ctx context.Context, authorID string) (int64, error) {
	used, err := storedBytes(r.db.WithContext(ctx), authorID)
	if err != nil {
		return 0, fmt.Errorf("stored bytes: %w", database.Classify(err))
	}
	return used, nil
}

// MarkBlobsGarbage implements app.Repository.
func (r *Repository) MarkBlobsGarbage(ctx context.Context, postID string) error {
	if err := markGarbage(r.db.WithContext(ctx), postID, r.db.NowFunc()); err != nil {
		return fmt.Errorf("mark blobs of %s garbage: %w", postID, database.Classify(err))
	}
	return nil
}

// GarbageBefore implements app.Repository.
func (r *Repository) GarbageBefore(ctx context.Context, before time.Time, limit int) ([]string, error) {
	var ids []string
	err := r.db.WithContext(ctx).Model(&blobGarbageRow{}).Where("since < ?", before).
		Order("since").Limit(limit).Pluck("post_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("blob garbage: %w", database.Classify(err))
	}
	return ids, nil
}

// BlobsCollected implements app.Repository: the row goes unless it was
// marked again after the janitor read it (a late rendition).
func (r *Repository) BlobsCollected(ctx context.Context, postID string, before time.Time) error {
	err := r.db.WithContext(ctx).Where("post_id = ? AND since < ?", postID, before).Delete(&blobGarbageRow{}).Error
	if err != nil {
		return fmt.Errorf("blobs of %s collected: %w", postID, database.Classify(err))
	}
	return nil
}

// BlobOwners implements app.Repository.
func (r *Repository) BlobOwners(ctx context.Context, ids []string) (map[string]app.BlobOwner, error) {
	out := make(map[string]app.BlobOwner, len(ids))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		var rows []postRow
		if err := r.db.WithContext(ctx).Unscoped().Select("id", "deleted_at").Where("id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("blob owners: %w", database.Classify(err))
		}
		for _, row := range rows {
			o := app.BlobOwner{Exists: true}
			if row.DeletedAt.Valid {
				o.DeletedAt = row.DeletedAt.Time
			}
			out[row.ID] = o
		}
		var pending []string
		if err := r.db.WithContext(ctx).Model(&blobGarbageRow{}).Where("post_id IN ?", chunk).Pluck("post_id", &pending).Error; err != nil {
			return nil, fmt.Errorf("blob owners: %w", database.Classify(err))
		}
		for _, id := range pending {
			o := out[id]
			o.Collecting = true
			out[id] = o
		}
	}
	return out, nil
}
