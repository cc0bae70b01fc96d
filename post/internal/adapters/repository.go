// Package adapters implements the post service's ports: GORM storage with
// the transactional outbox, the images binding, and the user service's
// graph queries through Dapr.
package adapters

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"pixshare/contracts/events"
	"pixshare/contracts/media"
	"pixshare/platform/apperror"
	"pixshare/platform/database"
	"pixshare/platform/deletedauthors"
	"pixshare/platform/outbox"
	"pixshare/post/internal/app"
	"pixshare/post/internal/domain"
)

// postRow is the posts table.
type postRow struct {
	ID       string `gorm:"primaryKey;size:36"`
	AuthorID string `gorm:"size:36;not null;index:ix_posts_author,priority:1"`
	Caption  string `gorm:"size:10000;not null;default:''"`
	AltText  string `gorm:"size:6000;not null;default:''"`
	// Tags are normalised ([a-z0-9_]) so a comma-joined list is exact.
	Tags           string `gorm:"size:2000;not null;default:''"`
	Status         string `gorm:"size:16;not null;index:ix_posts_stale,priority:1"`
	ThumbnailReady bool   `gorm:"not null;default:false"`
	IndexedVersion int64  `gorm:"not null;default:0"`
	Version        int64  `gorm:"not null;default:1"`
	OriginalKey    string `gorm:"size:200;not null"`
	// IdempotencyKey is the client's Idempotency-Key of the upload, unique
	// per author, so a retried upload finds the post it already made.
	IdempotencyKey string `gorm:"size:100;not null;default:''"`
	Format         string `gorm:"size:10;not null;default:''"`
	Width          int    `gorm:"not null;default:0"`
	Height         int    `gorm:"not null;default:0"`
	SizeBytes      int64  `gorm:"not null;default:0"`
	// RenditionBytes is "name=bytes" per stored rendition, comma-joined
	// (domain.Post.RenditionBytes); '' until the thumbnailer reports.
	RenditionBytes string `gorm:"size:200;not null;default:''"`
	CommentCount   int64  `gorm:"not null;default:0"`
	LikeCount      int64  `gorm:"not null;default:0"`
	FailedReason   string `gorm:"size:500;not null;default:''"`
	// RequestedAt is when the thumbnail and index requests were last sent;
	// the reconciler re-sends them for posts stuck past a bound.
	RequestedAt time.Time `gorm:"not null;index:ix_posts_stale,priority:2"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeletedAt   gorm.DeletedAt `gorm:"index"`
}

func (postRow) TableName() string { return "posts" }

func (r postRow) toDomain() domain.Post {
	tags := []string{}
	if r.Tags != "" {
		tags = strings.Split(r.Tags, ",")
	}
	return domain.Post{
		ID: r.ID, AuthorID: r.AuthorID, Caption: r.Caption, AltText: r.AltText, Tags: tags, Status: domain.Status(r.Status),
		ThumbnailReady: r.ThumbnailReady, IndexedVersion: r.IndexedVersion, Version: r.Version,
		OriginalKey: r.OriginalKey, Format: r.Format, Width: r.Width, Height: r.Height, Size: r.SizeBytes, IdempotencyKey: r.IdempotencyKey,
		RenditionBytes: decodeRenditionBytes(r.RenditionBytes), CommentCount: r.CommentCount, LikeCount: r.LikeCount,
		FailedReason: r.FailedReason, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func fromDomain(p domain.Post) postRow {
	return postRow{
		ID: p.ID, AuthorID: p.AuthorID, Caption: p.Caption, AltText: p.AltText, Tags: strings.Join(p.Tags, ","), Status: string(p.Status),
		ThumbnailReady: p.ThumbnailReady, IndexedVersion: p.IndexedVersion, Version: p.Version,
		OriginalKey: p.OriginalKey, Format: p.Format, Width: p.Width, Height: p.Height, SizeBytes: p.Size, IdempotencyKey: p.IdempotencyKey,
		RenditionBytes: encodeRenditionBytes(p.RenditionBytes), CommentCount: p.CommentCount, LikeCount: p.LikeCount,
		FailedReason: p.FailedReason, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

// encodeRenditionBytes writes m as "name=bytes,…" in the order of the
// sizes (names are media sizes: no ',' or '=').
func encodeRenditionBytes(m map[string]int64) string {
	var b strings.Builder
	for _, name := range media.Sizes() {
		if n, ok := m[name]; ok {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(name + "=" + strconv.FormatInt(n, 10))
		}
	}
	return b.String()
}

// decodeRenditionBytes reads encodeRenditionBytes's form (nil when empty).
func decodeRenditionBytes(s string) map[string]int64 {
	if s == "" {
		return nil
	}
	m := map[string]int64{}
	for part := range strings.SplitSeq(s, ",") {
		name, v, _ := strings.Cut(part, "=")
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			m[name] = n
		}
	}
	return m
}

// Repository is the GORM implementation of app.Repository.
type Repository struct {
	db *gorm.DB
}

// NewRepository returns a repository on db.
func NewRepository(db *gorm.DB) *Repository { return &Repository{db: db} }

// Migrate creates or updates the schema.
func Migrate(db *gorm.DB) error {
	if err := db.AutoMigrate(&postRow{}, &commentRef{}, &likeRow{}, &postTagRow{}, &blobGarbageRow{}); err != nil {
		return fmt.Errorf("migrate post schema: %w", err)
	}
	if err := deletedauthors.Migrate(db); err != nil {
		return err
	}
	// A partial composite index, which GORM's tags cannot express exactly;
	// the statement is the same on SQLite and PostgreSQL.
	// Unique among live posts only: reusing a key after deleting its post
	// makes a new post. (The first index of this name did not leave out
	// deleted posts.)
	for _, stmt := range []string{
		`DROP INDEX IF EXISTS ux_posts_idempotency`,
		`CREATE UNIQUE INDEX IF NOT EXISTS ux_posts_idempotency_live
		ON posts (author_id, idempotency_key) WHERE idempotency_key <> '' AND deleted_at IS NULL`,
	} {
		if err := db.Exec(stmt).Error; err != nil {
			return fmt.Errorf("migrate post schema: %w", err)
		}
	}
	if err := backfillTags(db); err != nil {
		return fmt.Errorf("migrate post schema: tag index: %w", err)
	}
	return outbox.Migrate(db)
}

func newID() string {
	return uuid.Must(uuid.NewV7()).String()
}

func thumbnailRequest(p domain.Post) events.ThumbnailRequested {
	return events.ThumbnailRequested{PostID: p.ID, AuthorID: p.AuthorID, Version: p.Version, OriginalKey: p.OriginalKey,
		OriginalBytes: p.Size}
}

func indexUpsert(p domain.Post) events.IndexUpsert {
	return events.IndexUpsert{PostID: p.ID, AuthorID: p.AuthorID, Caption: p.Caption, AltText: p.AltText, Tags: p.Tags,
		Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func enqueue(tx *gorm.DB, topic, typ string, payload any) error {
	_, err := outbox.Enqueue(tx, topic, typ, payload)
	return err
}

// Create implements app.Repository.
func (r *Repository) Create(ctx context.Context, p *domain.Post, quota int64) error {
	row := fromDomain(*p)
	row.RequestedAt = r.db.NowFunc()
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		if err := deletedauthors.Check(tx, row.AuthorID); err != nil {
			return err
		}
		// Under the author's lock (taken by Check), so parallel uploads
		// cannot all squeeze under the quota.
		if quota > 0 {
			used, err := storedBytes(tx, row.AuthorID)
			if err != nil {
				return err
			}
			if used+row.SizeBytes > quota {
				return app.QuotaExceeded(used, quota)
			}
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		// The upload is a post now: its blobs are no longer garbage.
		if err := tx.Where("post_id = ?", row.ID).Delete(&blobGarbageRow{}).Error; err != nil {
			return err
		}
		if err := setTags(tx, row.ID, row.Tags); err != nil {
			return err
		}
		created := row.toDomain()
		if err := enqueue(tx, events.TopicThumbnails, events.TypeThumbnailRequested, thumbnailRequest(created)); err != nil {
			return err
		}
		return enqueue(tx, events.TopicSearchIndex, events.TypeIndexUpsert, indexUpsert(created))
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) && p.IdempotencyKey != "" {
		return app.ErrDuplicateUpload
	}
	if _, ok := apperror.As(err); ok {
		return err
	}
	if err != nil {
		return fmt.Errorf("create post: %w", err)
	}
	*p = row.toDomain()
	return nil
}

// ByIdempotencyKey implements app.Repository.
func (r *Repository) ByIdempotencyKey(ctx context.Context, authorID, key string) (domain.Post, error) {
	var row postRow
	err := r.db.WithContext(ctx).Where("author_id = ? AND idempotency_key = ?", authorID, key).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Post{}, domain.ErrNoPost
	}
	if err != nil {
		return domain.Post{}, fmt.Errorf("post by idempotency key: %w", database.Classify(err))
	}
	return row.toDomain(), nil
}

// ByID implements app.Repository.
func (r *Repository) ByID(ctx context.Context, id string) (domain.Post, error) {
	var row postRow
	err := r.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Post{}, domain.ErrNoPost
	}
	if err != nil {
		return domain.Post{}, fmt.Errorf("post by id: %w", database.Classify(err))
	}
	return row.toDomain(), nil
}

// ByIDs implements app.Repository.
func (r *Repository) ByIDs(ctx context.Context, ids []string) ([]domain.Post, error) {
	var rows []postRow
	if err := r.db.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("posts by id: %w", database.Classify(err))
	}
	return toDomain(rows), nil
}

func lockPost(tx *gorm.DB, id string) (postRow, error) {
	var row postRow
	err := tx.Clauses(database.ForUpdate(tx)...).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, domain.ErrNoPost
	}
	return row, err
}

// save writes a locked post back. The counters are kept by their own
// statements (likes, comment events), never from a copy.
func save(tx *gorm.DB, row *postRow) error {
	row.UpdatedAt = tx.NowFunc()
	if err := tx.Select("*").Omit("created_at", "deleted_at", "like_count", "comment_count").Updates(row).Error; err != nil {
		return err
	}
	return setTags(tx, row.ID, row.Tags)
}

// Update implements app.Repository.
func (r *Repository) Update(ctx context.Context, id string, change func(*domain.Post) error, publish bool) (domain.Post, error) {
	var out domain.Post
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		row, err := lockPost(tx, id)
		if err != nil {
			return err
		}
		p := row.toDomain()
		if err := change(&p); err != nil {
			return err
		}
		updated := fromDomain(p)
		updated.RequestedAt = row.RequestedAt
		updated.CreatedAt = row.CreatedAt
		if err := save(tx, &updated); err != nil {
			return err
		}
		out = updated.toDomain()
		if publish {
			return enqueue(tx, events.TopicSearchIndex, events.TypeIndexUpsert, indexUpsert(out))
		}
		return nil
	})
	if err != nil {
		if _, ok := apperror.As(err); ok {
			return domain.Post{}, err
		}
		return domain.Post{}, fmt.Errorf("update post: %w", err)
	}
	return out, nil
}

// deleteRow soft-deletes a locked live post, bumping its version so the
// index removal outranks every earlier upsert, and enqueues its events.
func deleteRow(tx *gorm.DB, row postRow) error {
	now := tx.NowFunc()
	res := tx.Model(&postRow{}).Where("id = ?", row.ID).
		Updates(map[string]any{"version": row.Version + 1, "deleted_at": now, "updated_at": now})
	if res.Error != nil {
		return res.Error
	}
	if err := markGarbage(tx, row.ID, now); err != nil {
		return err
	}
	rm := events.IndexRemove{PostID: row.ID, AuthorID: row.AuthorID, Version: row.Version + 1}
	if err := enqueue(tx, events.TopicSearchIndex, events.TypeIndexRemove, rm); err != nil {
		return err
	}
	return enqueue(tx, events.TopicDomainEvents, events.TypePostDeleted,
		events.PostDeleted{PostID: row.ID, AuthorID: row.AuthorID, DeletedAt: now})
}

// Delete implements app.Repository.
func (r *Repository) Delete(ctx context.Context, id string, check func(domain.Post) error) (domain.Post, error) {
	var out domain.Post
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		row, err := lockPost(tx, id)
		if err != nil {
			return err
		}
		out = row.toDomain()
		if err := check(out); err != nil {
			return err
		}
		return deleteRow(tx, row)
	})
	if err != nil {
		if _, ok := apperror.As(err); ok {
			return domain.Post{}, err
		}
		return domain.Post{}, fmt.Errorf("delete post: %w", err)
	}
	return out, nil
}

// DeleteByAuthor implements app.Repository.
func (r *Repository) DeleteByAuthor(ctx context.Context, authorID string) ([]string, error) {
	var ids []string
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		ids = nil
		if err := deletedauthors.Record(tx, authorID); err != nil {
			return err
		}
		var rows []postRow
		if err := tx.Clauses(database.ForUpdate(tx)...).Where("author_id = ?", authorID).Find(&rows).Error; err != nil {
			return err
		}
		for _, row := range rows {
			if err := deleteRow(tx, row); err != nil {
				return err
			}
			ids = append(ids, row.ID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete posts of %s: %w", authorID, err)
	}
	return ids, nil
}

func toDomain(rows []postRow) []domain.Post {
	out := make([]domain.Post, len(rows))
	for i, row := range rows {
		out[i] = row.toDomain()
	}
	return out
}

// Feed implements app.Repository.
func (r *Repository) Feed(ctx context.Context, self string, authors []string, before string, limit int) ([]domain.Post, error) {
	q := r.db.WithContext(ctx).Model(&postRow{})
	if len(authors) > 0 {
		q = q.Where("author_id = ? OR (author_id IN ? AND status = ?)", self, authors, string(domain.StatusReady))
	} else {
		q = q.Where("author_id = ?", self)
	}
	if before != "" {
		q = q.Where("id < ?", before)
	}
	var rows []postRow
	if err := q.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("feed: %w", database.Classify(err))
	}
	return toDomain(rows), nil
}

// ByAuthor implements app.Repository.
func (r *Repository) ByAuthor(ctx context.Context, authorID string, includeUnready bool, before string, limit int) ([]domain.Post, error) {
	q := r.db.WithContext(ctx).Where("author_id = ?", authorID)
	if !includeUnready {
		q = q.Where("status = ?", string(domain.StatusReady))
	}
	if before != "" {
		q = q.Where("id < ?", before)
	}
	var rows []postRow
	if err := q.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("posts by author: %w", database.Classify(err))
	}
	return toDomain(rows), nil
}

// All implements app.Repository.
func (r *Repository) All(ctx context.Context, after string, limit int) ([]domain.Post, error) {
	q := r.db.WithContext(ctx).Order("id").Limit(limit)
	if after != "" {
		q = q.Where("id > ?", after)
	}
	var rows []postRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list posts: %w", database.Classify(err))
	}
	return toDomain(rows), nil
}

// Stale implements app.Repository.
func (r *Repository) Stale(ctx context.Context, olderThan time.Time, limit int) ([]domain.Post, error) {
	var rows []postRow
	err := r.db.WithContext(ctx).
		Where("status = ? AND requested_at < ?", string(domain.StatusProcessing), olderThan).
		Order("requested_at").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("stale posts: %w", database.Classify(err))
	}
	return toDomain(rows), nil
}

// Rerequest implements app.Repository.
func (r *Repository) Rerequest(ctx context.Context, p domain.Post) error {
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		row, err := lockPost(tx, p.ID)
		if errors.Is(err, domain.ErrNoPost) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		cur := row.toDomain()
		if cur.Status != domain.StatusProcessing {
			return nil
		}
		if !cur.ThumbnailReady {
			if err := enqueue(tx, events.TopicThumbnails, events.TypeThumbnailRequested, thumbnailRequest(cur)); err != nil {
				return err
			}
		}
		if !cur.Indexed() {
			if err := enqueue(tx, events.TopicSearchIndex, events.TypeIndexUpsert, indexUpsert(cur)); err != nil {
				return err
			}
		}
		return tx.Model(&postRow{}).Where("id = ?", p.ID).UpdateColumn("requested_at", tx.NowFunc()).Error
	})
	if err != nil {
		return fmt.Errorf("re-request post %s: %w", p.ID, err)
	}
	return nil
}
