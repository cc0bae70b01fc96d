// Package adapters implements the comment service's ports: GORM storage
// with the outbox, and the post and user services through Dapr.
package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"pixshare/comment/internal/domain"
	"pixshare/contracts/events"
	"pixshare/platform/apperror"
	"pixshare/platform/database"
	"pixshare/platform/deletedauthors"
	"pixshare/platform/outbox"
)

type commentRow struct {
	ID        string `gorm:"primaryKey;size:36"`
	PostID    string `gorm:"size:36;not null;index:ix_comments_post,priority:1"`
	AuthorID  string `gorm:"size:36;not null;index"`
	Body      string `gorm:"size:10000;not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt gorm.DeletedAt `gorm:"index"`
}

func (commentRow) TableName() string { return "comments" }

// deletedPost remembers a post.deleted event: comments that arrive for the
// post afterwards (the post service's answer was cached a moment) are
// refused instead of left behind.
type deletedPost struct {
	PostID    string `gorm:"primaryKey;size:36"`
	DeletedAt time.Time
}

func (deletedPost) TableName() string { return "deleted_posts" }

func (r commentRow) toDomain() domain.Comment {
	return domain.Comment{ID: r.ID, PostID: r.PostID, AuthorID: r.AuthorID, Body: r.Body,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// Repository is the GORM implementation of app.Repository.
type Repository struct{ db *gorm.DB }

// NewRepository returns a repository on db.
func NewRepository(db *gorm.DB) *Repository { return &Repository{db: db} }

// Migrate creates the schema.
func Migrate(db *gorm.DB) error {
	if err := db.AutoMigrate(&commentRow{}, &deletedPost{}); err != nil {
		return fmt.Errorf("migrate comment schema: %w", err)
	}
	if err := deletedauthors.Migrate(db); err != nil {
		return err
	}
	return outbox.Migrate(db)
}

func deleted(tx *gorm.DB, r commentRow) error {
	_, err := outbox.Enqueue(tx, events.TopicDomainEvents, events.TypeCommentDeleted,
		events.CommentDeleted{CommentID: r.ID, PostID: r.PostID, AuthorID: r.AuthorID})
	return err
}

// Create implements app.Repository.
func (r *Repository) Create(ctx context.Context, c *domain.Comment) error {
	row := commentRow{ID: c.ID, PostID: c.PostID, AuthorID: c.AuthorID, Body: c.Body}
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		if err := deletedauthors.Check(tx, row.AuthorID); err != nil {
			return err
		}
		var gone int64
		if err := tx.Model(&deletedPost{}).Where("post_id = ?", row.PostID).Count(&gone).Error; err != nil {
			return err
		}
		if gone > 0 {
			return apperror.NotFoundf("post not found")
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		_, err := outbox.Enqueue(tx, events.TopicDomainEvents, events.TypeCommentCreated,
			events.CommentCreated{CommentID: row.ID, PostID: row.PostID, AuthorID: row.AuthorID, CreatedAt: row.CreatedAt})
		return err
	})
	if err != nil {
		if _, ok := apperror.As(err); ok {
			return err
		}
		return fmt.Errorf("create comment: %w", err)
	}
	*c = row.toDomain()
	return nil
}

func lock(tx *gorm.DB, postID, id string) (commentRow, error) {
	var row commentRow
	err := tx.Clauses(database.ForUpdate(tx)...).Where("id = ? AND post_id = ?", id, postID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, domain.ErrNoComment
	}
	return row, err
}

// ByID implements app.Repository.
func (r *Repository) ByID(ctx context.Context, postID, id string) (domain.Comment, error) {
	var row commentRow
	err := r.db.WithContext(ctx).Where("id = ? AND post_id = ?", id, postID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Comment{}, domain.ErrNoComment
	}
	if err != nil {
		return domain.Comment{}, database.Classify(err)
	}
	return row.toDomain(), nil
}

// UpdateBody implements app.Repository.
func (r *Repository) UpdateBody(ctx context.Context, postID, id, actor, body string) (domain.Comment, error) {
	var out domain.Comment
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		row, err := lock(tx, postID, id)
		if err != nil {
			return err
		}
		if err := domain.CanEdit(row.toDomain(), actor); err != nil {
			return err
		}
		row.Body = body
		if err := tx.Model(&row).Updates(map[string]any{"body": body, "updated_at": tx.NowFunc()}).Error; err != nil {
			return err
		}
		if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		out = row.toDomain()
		return nil
	})
	return out, err
}

// Delete implements app.Repository.
func (r *Repository) Delete(ctx context.Context, postID, id, actor, postAuthor string) error {
	return database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		row, err := lock(tx, postID, id)
		if err != nil {
			return err
		}
		if err := domain.CanDelete(row.toDomain(), actor, postAuthor); err != nil {
			return err
		}
		if err := tx.Delete(&row).Error; err != nil {
			return err
		}
		return deleted(tx, row)
	})
}

// List implements app.Repository.
func (r *Repository) List(ctx context.Context, postID, after string, exclude []string, limit int) ([]domain.Comment, error) {
	q := r.db.WithContext(ctx).Where("post_id = ?", postID)
	if after != "" {
		q = q.Where("id > ?", after)
	}
	if len(exclude) > 0 {
		q = q.Where("author_id NOT IN ?", exclude)
	}
	var rows []commentRow
	if err := q.Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list comments: %w", database.Classify(err))
	}
	out := make([]domain.Comment, len(rows))
	for i, row := range rows {
		out[i] = row.toDomain()
	}
	return out, nil
}

// DeleteByPost implements app.Repository. The post is gone, so no counts
// need to follow.
func (r *Repository) DeleteByPost(ctx context.Context, postID string) (int, error) {
	n := 0
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&deletedPost{PostID: postID, DeletedAt: tx.NowFunc()}).Error; err != nil {
			return err
		}
		res := tx.Where("post_id = ?", postID).Delete(&commentRow{})
		n = int(res.RowsAffected)
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("delete comments of post %s: %w", postID, database.Classify(err))
	}
	return n, nil
}

// DeleteByAuthor implements app.Repository.
func (r *Repository) DeleteByAuthor(ctx context.Context, authorID string) (int, error) {
	n := 0
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		n = 0
		if err := deletedauthors.Record(tx, authorID); err != nil {
			return err
		}
		var rows []commentRow
		if err := tx.Clauses(database.ForUpdate(tx)...).Where("author_id = ?", authorID).Find(&rows).Error; err != nil {
			return err
		}
		for _, row := range rows {
			if err := tx.Delete(&row).Error; err != nil {
				return err
			}
			if err := deleted(tx, row); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete comments of user %s: %w", authorID, err)
	}
	return n, nil
}
