package adapters

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"pixshare/platform/database"
)

// commentRef records each comment the post service has counted, so the
// count stays right when comment events arrive twice or out of order: a
// deletion that arrives before its creation leaves a tombstone, and the
// late creation then counts nothing.
type commentRef struct {
	CommentID string `gorm:"primaryKey;size:36"`
	PostID    string `gorm:"size:36;not null;index"`
	Deleted   bool   `gorm:"not null;default:false"`
}

func (commentRef) TableName() string { return "comment_refs" }

// CountComment applies comment.created or (deleted=true) comment.deleted
// and returns whether the post's count changed.
func (r *Repository) CountComment(ctx context.Context, postID, commentID string, deleted bool) (bool, error) {
	changed := false
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		changed = false
		var ref commentRef
		err := tx.Clauses(database.ForUpdate(tx)...).Where("comment_id = ?", commentID).Take(&ref).Error
		found := err == nil
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		delta := 0
		switch {
		case !found:
			if err := tx.Create(&commentRef{CommentID: commentID, PostID: postID, Deleted: deleted}).Error; err != nil {
				return err
			}
			if !deleted {
				delta = 1
			}
		case deleted && !ref.Deleted:
			if err := tx.Model(&commentRef{}).Where("comment_id = ?", commentID).Update("deleted", true).Error; err != nil {
				return err
			}
			delta = -1
		}
		if delta == 0 {
			return nil
		}
		changed = true
		// Unscoped: a deleted post keeps counting quietly, which harms no
		// one and keeps the refs consistent.
		return tx.Unscoped().Model(&postRow{}).Where("id = ?", postID).
			UpdateColumn("comment_count", gorm.Expr("CASE WHEN comment_count + ? < 0 THEN 0 ELSE comment_count + ? END", delta, delta)).Error
	})
	if err != nil {
		return false, fmt.Errorf("count comment %s: %w", commentID, err)
	}
	return changed, nil
}
