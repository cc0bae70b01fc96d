package adapters

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"pixshare/platform/database"
	"pixshare/platform/deletedauthors"
	"pixshare/post/internal/domain"
)

// likeRow is one "user likes post". Unliking soft-deletes the row; at most
// one live row per pair. posts.like_count equals the post's live rows: it
// changes only in the transaction that adds or removes one.
type likeRow struct {
	ID        string `gorm:"primaryKey;size:36"`
	PostID    string `gorm:"size:36;not null;uniqueIndex:ux_likes_live,priority:1,where:deleted_at IS NULL;index:ix_likes_post,priority:1"`
	UserID    string `gorm:"size:36;not null;uniqueIndex:ux_likes_live,priority:2;index:ix_likes_user"`
	CreatedAt time.Time
	DeletedAt gorm.DeletedAt `gorm:"index"`
}

func (likeRow) TableName() string { return "likes" }

// postTagRow indexes posts by tag for the tag timelines.
type postTagRow struct {
	Tag    string `gorm:"primaryKey;size:50"`
	PostID string `gorm:"primaryKey;size:36;index"`
}

func (postTagRow) TableName() string { return "post_tags" }

// setTags makes the tag index hold exactly tags (comma-joined) for a post.
func setTags(tx *gorm.DB, postID, tags string) error {
	if err := tx.Where("post_id = ?", postID).Delete(&postTagRow{}).Error; err != nil {
		return err
	}
	if tags == "" {
		return nil
	}
	var rows []postTagRow
	for _, t := range strings.Split(tags, ",") {
		rows = append(rows, postTagRow{Tag: t, PostID: postID})
	}
	return tx.Create(&rows).Error
}

// backfillTags fills the tag index for posts written before it existed.
func backfillTags(db *gorm.DB) error {
	var indexed int64
	if err := db.Model(&postTagRow{}).Count(&indexed).Error; err != nil || indexed > 0 {
		return err
	}
	var rows []postRow
	return db.Unscoped().Where("tags <> ''").FindInBatches(&rows, 500, func(tx *gorm.DB, _ int) error {
		for _, r := range rows {
			if err := setTags(tx, r.ID, r.Tags); err != nil {
				return err
			}
		}
		return nil
	}).Error
}

// Like implements app.Repository.
func (r *Repository) Like(ctx context.Context, postID, userID string) error {
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		if err := deletedauthors.Check(tx, userID); err != nil {
			return err
		}
		if _, err := lockPost(tx, postID); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&likeRow{}).Where("post_id = ? AND user_id = ?", postID, userID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil // idempotent
		}
		if err := tx.Create(&likeRow{ID: newID(), PostID: postID, UserID: userID}).Error; err != nil {
			return err
		}
		return tx.Model(&postRow{}).Where("id = ?", postID).UpdateColumn("like_count", gorm.Expr("like_count + 1")).Error
	})
	return likeError("like", err)
}

// Unlike implements app.Repository.
func (r *Repository) Unlike(ctx context.Context, postID, userID string) error {
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		if _, err := lockPost(tx, postID); err != nil {
			return err
		}
		return unlikeLocked(tx, postID, userID)
	})
	return likeError("unlike", err)
}

// unlikeLocked removes a live like of a locked post and its count.
func unlikeLocked(tx *gorm.DB, postID, userID string) error {
	res := tx.Where("post_id = ? AND user_id = ?", postID, userID).Delete(&likeRow{})
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error
	}
	return tx.Unscoped().Model(&postRow{}).Where("id = ?", postID).
		UpdateColumn("like_count", gorm.Expr("like_count - 1")).Error
}

func likeError(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, domain.ErrNoPost):
		return domain.ErrNoPost
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return nil // a concurrent identical request won: same outcome
	}
	return fmt.Errorf("%s: %w", what, err)
}

// RemoveLikesBy implements app.Repository: a deleted account's likes leave
// every count, each in its post's lock.
func (r *Repository) RemoveLikesBy(ctx context.Context, userID string) ([]string, error) {
	var postIDs []string
	if err := r.db.WithContext(ctx).Model(&likeRow{}).Where("user_id = ?", userID).Pluck("post_id", &postIDs).Error; err != nil {
		return nil, fmt.Errorf("likes of %s: %w", userID, database.Classify(err))
	}
	for _, postID := range postIDs {
		err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
			var row postRow
			err := tx.Unscoped().Clauses(database.ForUpdate(tx)...).Where("id = ?", postID).Take(&row).Error
			if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
			return unlikeLocked(tx, postID, userID)
		})
		if err != nil {
			return nil, fmt.Errorf("remove likes of %s: %w", userID, err)
		}
	}
	return postIDs, nil
}

// LikedBy implements app.Repository.
func (r *Repository) LikedBy(ctx context.Context, userID string, postIDs []string) (map[string]bool, error) {
	out := map[string]bool{}
	if userID == "" || len(postIDs) == 0 {
		return out, nil
	}
	var liked []string
	err := r.db.WithContext(ctx).Model(&likeRow{}).Where("user_id = ? AND post_id IN ?", userID, postIDs).Pluck("post_id", &liked).Error
	if err != nil {
		return nil, fmt.Errorf("liked: %w", database.Classify(err))
	}
	for _, id := range liked {
		out[id] = true
	}
	return out, nil
}

// Likers implements app.Repository: who liked a post, newest first,
// leaving out exclude.
func (r *Repository) Likers(ctx context.Context, postID string, exclude []string, before string, limit int) ([]domain.Like, error) {
	q := r.db.WithContext(ctx).Model(&likeRow{}).Where("post_id = ?", postID)
	if len(exclude) > 0 {
		q = q.Where("user_id NOT IN ?", exclude)
	}
	if before != "" {
		q = q.Where("id < ?", before)
	}
	var rows []likeRow
	if err := q.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("likers: %w", database.Classify(err))
	}
	out := make([]domain.Like, len(rows))
	for i, l := range rows {
		out[i] = domain.Like{ID: l.ID, UserID: l.UserID, CreatedAt: l.CreatedAt}
	}
	return out, nil
}

// Timeline implements app.Repository: ready posts newest first, of one tag
// when tag is set, leaving out authors in exclude.
func (r *Repository) Timeline(ctx context.Context, tag string, exclude []string, before string, limit int) ([]domain.Post, error) {
	q := r.db.WithContext(ctx).Model(&postRow{}).Where("posts.status = ?", string(domain.StatusReady))
	if tag != "" {
		q = q.Joins("JOIN post_tags ON post_tags.post_id = posts.id AND post_tags.tag = ?", tag)
	}
	if len(exclude) > 0 {
		q = q.Where("posts.author_id NOT IN ?", exclude)
	}
	if before != "" {
		q = q.Where("posts.id < ?", before)
	}
	var rows []postRow
	if err := q.Order("posts.id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("timeline: %w", database.Classify(err))
	}
	return toDomain(rows), nil
}

// LikesConsistent reports posts whose like_count differs from their live
// like rows (the counters test uses it).
func (r *Repository) LikesConsistent(ctx context.Context) ([]string, error) {
	var bad []string
	err := r.db.WithContext(ctx).Raw(`
SELECT p.id FROM posts p
WHERE p.like_count <> (SELECT COUNT(*) FROM likes l WHERE l.post_id = p.id AND l.deleted_at IS NULL)`).Scan(&bad).Error
	return bad, err
}
