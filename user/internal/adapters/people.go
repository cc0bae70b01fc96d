package adapters

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"pixshare/contracts/events"
	"pixshare/contracts/media"
	"pixshare/platform/database"
	"pixshare/platform/outbox"
	"pixshare/user/internal/domain"
)

// ByUsername implements app.Repository.
func (r *Repository) ByUsername(ctx context.Context, username string) (domain.User, error) {
	var row userRow
	err := r.read(ctx).Where("username = ?", username).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.User{}, domain.ErrNoUser
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("user by username: %w", database.Classify(err))
	}
	return row.toDomain(), nil
}

// ByIDs implements app.Repository.
func (r *Repository) ByIDs(ctx context.Context, ids []string) ([]domain.User, error) {
	var rows []userRow
	if err := r.read(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("users by id: %w", database.Classify(err))
	}
	out := make([]domain.User, len(rows))
	for i, row := range rows {
		out[i] = row.toDomain()
	}
	return out, nil
}

// notInBlock keeps users in no block relationship with viewer.
func (r *Repository) notInBlock(q *gorm.DB, column, viewer string) *gorm.DB {
	if viewer == "" {
		return q
	}
	return q.Where(column+" NOT IN (?) AND "+column+" NOT IN (?)",
		r.db.Table("blocks").Select("blocked_id").Where("blocker_id = ? AND deleted_at IS NULL", viewer),
		r.db.Table("blocks").Select("blocker_id").Where("blocked_id = ? AND deleted_at IS NULL", viewer))
}

// likePrefix is a LIKE pattern matching what starts with prefix, with
// LIKE's own wildcards in prefix taken literally (ESCAPE '\').
func likePrefix(prefix string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(prefix) + "%"
}

// SearchUsers implements app.Repository. Ranking: the exact username
// first, then usernames starting with the prefix, then display names
// starting with it (ignoring case); by username within each. The cursor
// is "<rank>:<username>" of the last user of the previous page.
func (r *Repository) SearchUsers(ctx context.Context, prefix, viewer, after string, limit int) ([]domain.UserHit, error) {
	afterRank, afterName := -1, ""
	if after != "" {
		rank, name, ok := strings.Cut(after, ":")
		n, err := strconv.Atoi(rank)
		if !ok || err != nil {
			return nil, domain.ErrBadCursor
		}
		afterRank, afterName = n, name
	}
	lower := strings.ToLower(prefix)
	pattern := likePrefix(lower)
	rank := `CASE WHEN username = ? THEN 0 WHEN username LIKE ? ESCAPE '\' THEN 1 ELSE 2 END`
	q := r.read(ctx).Table("users").
		Select("*, "+rank+" AS rank", lower, pattern).
		Where("deleted_at IS NULL").
		Where(`username LIKE ? ESCAPE '\' OR lower(display_name) LIKE ? ESCAPE '\'`, pattern, pattern)
	q = r.notInBlock(q, "id", viewer)
	var rows []struct {
		ID, Username, DisplayName, Bio string
		FollowerCount, FollowingCount  int64
		AvatarVersion                  int64
		CreatedAt                      time.Time
		Rank                           int
	}
	outer := r.read(ctx).Table("(?) AS hits", q)
	if afterRank >= 0 {
		outer = outer.Where("rank > ? OR (rank = ? AND username > ?)", afterRank, afterRank, afterName)
	}
	if err := outer.Order("rank, username").Limit(limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("search users: %w", database.Classify(err))
	}
	out := make([]domain.UserHit, len(rows))
	for i, row := range rows {
		u := domain.User{ID: row.ID, Username: row.Username, DisplayName: row.DisplayName, Bio: row.Bio,
			FollowerCount: row.FollowerCount, FollowingCount: row.FollowingCount, AvatarVersion: row.AvatarVersion, CreatedAt: row.CreatedAt}
		out[i] = domain.UserHit{User: u, Cursor: strconv.Itoa(row.Rank) + ":" + row.Username}
	}
	return out, nil
}

// Relationship implements app.Repository.
func (r *Repository) Relationship(ctx context.Context, viewer, id string) (domain.Relationship, error) {
	var rel domain.Relationship
	count := func(table, a, b, x, y string) (bool, error) {
		var n int64
		err := r.read(ctx).Table(table).Where(a+" = ? AND "+b+" = ? AND deleted_at IS NULL", x, y).Count(&n).Error
		return n > 0, err
	}
	var err error
	if rel.Following, err = count("follows", "follower_id", "followee_id", viewer, id); err == nil {
		if rel.FollowedBy, err = count("follows", "follower_id", "followee_id", id, viewer); err == nil {
			if rel.Blocking, err = count("blocks", "blocker_id", "blocked_id", viewer, id); err == nil {
				rel.BlockedBy, err = count("blocks", "blocker_id", "blocked_id", id, viewer)
			}
		}
	}
	if err != nil {
		return rel, fmt.Errorf("relationship: %w", database.Classify(err))
	}
	return rel, nil
}

// Blocks implements app.Repository: whom userID blocks, newest first.
func (r *Repository) Blocks(ctx context.Context, userID, cursor string, limit int) ([]domain.Relation, error) {
	q := r.read(ctx).Table("blocks AS b").
		Select("b.id AS cursor, u.id AS user_id, u.username, u.display_name, u.avatar_version, b.created_at AS since").
		Joins("JOIN users AS u ON u.id = b.blocked_id AND u.deleted_at IS NULL").
		Where("b.blocker_id = ? AND b.deleted_at IS NULL", userID)
	if cursor != "" {
		q = q.Where("b.id < ?", cursor)
	}
	var out []domain.Relation
	if err := q.Order("b.id DESC").Limit(limit).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list blocks: %w", database.Classify(err))
	}
	return out, nil
}

// NewAvatar implements app.Repository: version becomes the pending avatar,
// and its request goes to the thumbnailer through the outbox, in one
// transaction.
func (r *Repository) NewAvatar(ctx context.Context, id string, version int64) error {
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		res := tx.Model(&userRow{}).Where("id = ?", id).Updates(map[string]any{"avatar_pending": version, "updated_at": tx.NowFunc()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.ErrNoUser
		}
		_, err := outbox.Enqueue(tx, events.TopicThumbnails, events.TypeAvatarRequested, events.AvatarRequested{
			UserID: id, Version: version, OriginalKey: media.AvatarUploadKey(id, version)})
		return err
	})
	if err != nil {
		if errors.Is(err, domain.ErrNoUser) {
			return err
		}
		return fmt.Errorf("new avatar: %w", err)
	}
	return nil
}

// SetAvatar implements app.Repository: version becomes the served avatar
// if it is the pending one (ready) — or 0 removes the avatar.
func (r *Repository) SetAvatar(ctx context.Context, id string, version int64) (bool, error) {
	q := r.read(ctx).Model(&userRow{}).Where("id = ?", id)
	var res *gorm.DB
	if version == 0 {
		res = q.Updates(map[string]any{"avatar_version": 0, "avatar_pending": 0, "updated_at": r.db.NowFunc()})
	} else {
		res = q.Where("avatar_pending = ?", version).
			Updates(map[string]any{"avatar_version": version, "avatar_pending": 0, "updated_at": r.db.NowFunc()})
	}
	if res.Error != nil {
		return false, fmt.Errorf("set avatar: %w", database.Classify(res.Error))
	}
	return res.RowsAffected > 0, nil
}

// DropPendingAvatar implements app.Repository.
func (r *Repository) DropPendingAvatar(ctx context.Context, id string, version int64) error {
	err := r.read(ctx).Model(&userRow{}).Where("id = ? AND avatar_pending = ?", id, version).
		Update("avatar_pending", 0).Error
	if err != nil {
		return fmt.Errorf("drop pending avatar: %w", database.Classify(err))
	}
	return nil
}

// SetStatus implements app.Repository.
func (r *Repository) SetStatus(ctx context.Context, id string, status domain.Status) error {
	res := r.read(ctx).Model(&userRow{}).Where("id = ?", id).
		Updates(map[string]any{"status": string(status), "updated_at": r.db.NowFunc()})
	if res.Error != nil {
		return fmt.Errorf("set status: %w", database.Classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return domain.ErrNoUser
	}
	return nil
}
