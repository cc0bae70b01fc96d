package adapters

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"pixshare/contracts/events"
	"pixshare/platform/apperror"
	"pixshare/platform/database"
	"pixshare/platform/outbox"
	"pixshare/user/internal/domain"
)

// Repository is the GORM implementation of app.Repository.
type Repository struct {
	db *gorm.DB
}

// NewRepository returns a repository on db.
func NewRepository(db *gorm.DB) *Repository { return &Repository{db: db} }

// Migrate creates or updates the schema.
func Migrate(db *gorm.DB) error {
	if err := db.AutoMigrate(&userRow{}, &followRow{}, &blockRow{}); err != nil {
		return fmt.Errorf("migrate user schema: %w", err)
	}
	// People search matches display names without regard to case; the
	// statement is the same on SQLite and PostgreSQL.
	if err := db.Exec(`CREATE INDEX IF NOT EXISTS ix_users_display_lower ON users (lower(display_name))`).Error; err != nil {
		return fmt.Errorf("migrate user schema: %w", err)
	}
	return outbox.Migrate(db)
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func (r *Repository) read(ctx context.Context) *gorm.DB { return r.db.WithContext(ctx) }

// Create implements app.Repository. It also queues the welcome mail
// (events.TypeSendEmail) in the same transaction.
func (r *Repository) Create(ctx context.Context, u *domain.User) error {
	row := fromDomain(*u)
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		// Check first to name the taken field; the unique indexes still
		// decide under concurrency.
		var taken []userRow
		if err := tx.Select("username", "email").Where("username = ? OR email = ?", row.Username, row.Email).Find(&taken).Error; err != nil {
			return err
		}
		for _, t := range taken {
			if t.Username == row.Username {
				return conflict("username")
			}
			return conflict("email")
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		// The welcome mail goes out through the outbox: it is sent if and
		// only if the account exists.
		_, err := outbox.Enqueue(tx, events.TopicMail, events.TypeSendEmail, events.SendEmail{
			Template: events.MailWelcome, To: row.Email, UserID: row.ID, Username: row.Username,
		})
		return err
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		if strings.Contains(err.Error(), "email") {
			return conflict("email")
		}
		return conflict("username")
	}
	if err != nil {
		return fmt.Errorf("create user: %w", database.Classify(err))
	}
	*u = row.toDomain()
	return nil
}

func conflict(field string) error {
	return apperror.Conflictf("%s is already taken", field).
		WithFields(apperror.FieldError{Field: field, Message: "already taken"})
}

// ByID implements app.Repository.
func (r *Repository) ByID(ctx context.Context, id string) (domain.User, error) {
	var row userRow
	err := r.read(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.User{}, domain.ErrNoUser
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("user by id: %w", database.Classify(err))
	}
	return row.toDomain(), nil
}

// ByIDIncludingDeleted implements app.Repository.
func (r *Repository) ByIDIncludingDeleted(ctx context.Context, id string) (domain.User, bool, error) {
	var row userRow
	err := r.read(ctx).Unscoped().Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.User{}, false, nil
	}
	if err != nil {
		return domain.User{}, false, fmt.Errorf("user by id: %w", database.Classify(err))
	}
	u := row.toDomain()
	if row.DeletedAt.Valid {
		u.Status = domain.StatusDeleted
	}
	return u, true, nil
}

// ByLogin implements app.Repository.
func (r *Repository) ByLogin(ctx context.Context, login string) (domain.User, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	col := "username"
	if strings.Contains(login, "@") {
		col = "email"
	}
	var row userRow
	err := r.read(ctx).Where(col+" = ?", login).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.User{}, domain.ErrNoUser
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("user by login: %w", database.Classify(err))
	}
	return row.toDomain(), nil
}

// UpdateProfile implements app.Repository.
func (r *Repository) UpdateProfile(ctx context.Context, id string, change func(*domain.User) error) (domain.User, error) {
	var out domain.User
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		var row userRow
		if err := tx.Clauses(database.ForUpdate(tx)...).Where("id = ?", id).Take(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return domain.ErrNoUser
			}
			return err
		}
		u := row.toDomain()
		if err := change(&u); err != nil {
			return err
		}
		err := tx.Model(&userRow{}).Where("id = ?", id).Updates(map[string]any{
			"display_name": u.DisplayName, "bio": u.Bio, "email": u.Email, "password_hash": u.PasswordHash,
			"token_version": u.TokenVersion, "updated_at": tx.NowFunc(),
		}).Error
		if err != nil {
			return err
		}
		if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		out = row.toDomain()
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return domain.User{}, conflict("email")
	}
	if err != nil {
		if _, ok := apperror.As(err); ok {
			return domain.User{}, err
		}
		return domain.User{}, fmt.Errorf("update profile: %w", database.Classify(err))
	}
	return out, nil
}

// BumpTokenVersion implements app.Repository.
func (r *Repository) BumpTokenVersion(ctx context.Context, id string) error {
	res := r.read(ctx).Model(&userRow{}).Where("id = ?", id).
		Updates(map[string]any{"token_version": gorm.Expr("token_version + 1"), "updated_at": r.db.NowFunc()})
	if res.Error != nil {
		return fmt.Errorf("revoke tokens: %w", database.Classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return domain.ErrNoUser
	}
	return nil
}

// lockUsers locks the live users with the given ids, in id order (so two
// transactions locking overlapping sets cannot deadlock), and returns them
// by id.
func lockUsers(tx *gorm.DB, ids ...string) (map[string]userRow, error) {
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	var rows []userRow
	err := tx.Clauses(database.ForUpdate(tx)...).Where("id IN ?", sorted).Order("id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make(map[string]userRow, len(rows))
	for _, row := range rows {
		out[row.ID] = row
	}
	return out, nil
}

func blockedEitherWay(tx *gorm.DB, a, b string) (bool, error) {
	var n int64
	err := tx.Model(&blockRow{}).
		Where("(blocker_id = ? AND blocked_id = ?) OR (blocker_id = ? AND blocked_id = ?)", a, b, b, a).
		Count(&n).Error
	return n > 0, err
}

func bump(tx *gorm.DB, id, column string, delta int) error {
	return tx.Model(&userRow{}).Where("id = ?", id).
		UpdateColumn(column, gorm.Expr(column+" + ?", delta)).Error
}

// Follow implements app.Repository.
func (r *Repository) Follow(ctx context.Context, follower, followee string) error {
	return r.relationship(ctx, "follow", func(tx *gorm.DB) error {
		users, err := lockUsers(tx, follower, followee)
		if err != nil {
			return err
		}
		if _, ok := users[followee]; !ok {
			return domain.ErrNoUser
		}
		if _, ok := users[follower]; !ok {
			return apperror.Unauthenticatedf("account no longer exists")
		}
		blocked, err := blockedEitherWay(tx, follower, followee)
		if err != nil {
			return err
		}
		if blocked {
			return domain.ErrBlocked
		}
		created, err := insertFollow(tx, follower, followee)
		if err != nil || !created {
			return err
		}
		if err := bump(tx, follower, "following_count", 1); err != nil {
			return err
		}
		return bump(tx, followee, "follower_count", 1)
	})
}

// insertFollow adds the live follow row unless there is one already.
func insertFollow(tx *gorm.DB, follower, followee string) (bool, error) {
	var n int64
	if err := tx.Model(&followRow{}).Where("follower_id = ? AND followee_id = ?", follower, followee).Count(&n).Error; err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	revived, err := revive(tx, "follows", "follower_id", "followee_id", follower, followee)
	if err != nil || revived {
		return revived, err
	}
	return true, tx.Create(&followRow{ID: newID(), FollowerID: follower, FolloweeID: followee}).Error
}

// revive brings back the pair's soft-deleted row, if there is one, as
// from now, instead of inserting another: follow/unfollow (or block/
// unblock) cycles then keep one row per pair however often they repeat.
func revive(tx *gorm.DB, table, a, b, x, y string) (bool, error) {
	var ids []string
	err := tx.Table(table).Select("id").Where(a+" = ? AND "+b+" = ? AND deleted_at IS NOT NULL", x, y).
		Order("id").Limit(1).Pluck("id", &ids).Error
	if err != nil || len(ids) == 0 {
		return false, err
	}
	res := tx.Table(table).Where("id = ? AND deleted_at IS NOT NULL", ids[0]).
		Updates(map[string]any{"deleted_at": nil, "created_at": time.Now().UTC()})
	return res.RowsAffected == 1, res.Error
}

// removeFollow soft-deletes the live follow row, if any, and its counters.
func removeFollow(tx *gorm.DB, follower, followee string) error {
	res := tx.Where("follower_id = ? AND followee_id = ?", follower, followee).Delete(&followRow{})
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error
	}
	if err := bump(tx, follower, "following_count", -1); err != nil {
		return err
	}
	return bump(tx, followee, "follower_count", -1)
}

// Unfollow implements app.Repository.
func (r *Repository) Unfollow(ctx context.Context, follower, followee string) error {
	return r.relationship(ctx, "unfollow", func(tx *gorm.DB) error {
		users, err := lockUsers(tx, follower, followee)
		if err != nil {
			return err
		}
		if _, ok := users[followee]; !ok {
			return domain.ErrNoUser
		}
		return removeFollow(tx, follower, followee)
	})
}

// Block implements app.Repository.
func (r *Repository) Block(ctx context.Context, blocker, blocked string) error {
	return r.relationship(ctx, "block", func(tx *gorm.DB) error {
		users, err := lockUsers(tx, blocker, blocked)
		if err != nil {
			return err
		}
		if _, ok := users[blocked]; !ok {
			return domain.ErrNoUser
		}
		var n int64
		if err := tx.Model(&blockRow{}).Where("blocker_id = ? AND blocked_id = ?", blocker, blocked).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			revived, err := revive(tx, "blocks", "blocker_id", "blocked_id", blocker, blocked)
			if err != nil {
				return err
			}
			if !revived {
				if err := tx.Create(&blockRow{ID: newID(), BlockerID: blocker, BlockedID: blocked}).Error; err != nil {
					return err
				}
			}
		}
		if err := removeFollow(tx, blocker, blocked); err != nil {
			return err
		}
		return removeFollow(tx, blocked, blocker)
	})
}

// Unblock implements app.Repository.
func (r *Repository) Unblock(ctx context.Context, blocker, blocked string) error {
	return r.relationship(ctx, "unblock", func(tx *gorm.DB) error {
		users, err := lockUsers(tx, blocker, blocked)
		if err != nil {
			return err
		}
		if _, ok := users[blocked]; !ok {
			return domain.ErrNoUser
		}
		return tx.Where("blocker_id = ? AND blocked_id = ?", blocker, blocked).Delete(&blockRow{}).Error
	})
}

func (r *Repository) relationship(ctx context.Context, what string, fn func(tx *gorm.DB) error) error {
	err := database.Transact(ctx, r.db, fn)
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// A concurrent identical request won the race: the outcome is
		// the same, and these operations are idempotent.
		return nil
	}
	if err != nil {
		if _, ok := apperror.As(err); ok {
			return err
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Delete implements app.Repository.
func (r *Repository) Delete(ctx context.Context, id string) ([]string, error) {
	var affected []string
	err := database.Transact(ctx, r.db, func(tx *gorm.DB) error {
		affected = nil
		var follows []followRow
		if err := tx.Where("follower_id = ? OR followee_id = ?", id, id).Find(&follows).Error; err != nil {
			return err
		}
		ids := []string{id}
		for _, f := range follows {
			if f.FollowerID == id {
				ids = append(ids, f.FolloweeID)
			} else {
				ids = append(ids, f.FollowerID)
			}
		}
		users, err := lockUsers(tx, ids...)
		if err != nil {
			return err
		}
		if _, ok := users[id]; !ok {
			return domain.ErrNoUser
		}
		// Re-read under the locks: the set cannot change now.
		if err := tx.Where("follower_id = ? OR followee_id = ?", id, id).Find(&follows).Error; err != nil {
			return err
		}
		for _, f := range follows {
			if err := removeFollow(tx, f.FollowerID, f.FolloweeID); err != nil {
				return err
			}
			if f.FollowerID == id {
				affected = append(affected, f.FolloweeID)
			} else {
				affected = append(affected, f.FollowerID)
			}
		}
		if err := tx.Where("blocker_id = ? OR blocked_id = ?", id, id).Delete(&blockRow{}).Error; err != nil {
			return err
		}
		now := tx.NowFunc()
		err = tx.Model(&userRow{}).Where("id = ?", id).Updates(map[string]any{
			"status": string(domain.StatusDeleted), "token_version": gorm.Expr("token_version + 1"),
			"deleted_at": now, "updated_at": now,
		}).Error
		if err != nil {
			return err
		}
		_, err = outbox.Enqueue(tx, events.TopicDomainEvents, events.TypeUserDeleted,
			events.UserDeleted{UserID: id, DeletedAt: now})
		return err
	})
	if err != nil {
		if _, ok := apperror.As(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("delete user: %w", err)
	}
	return affected, nil
}

// relations pages through follows joined with the other user.
func (r *Repository) relations(ctx context.Context, userID, viewer, cursor string, limit int, byFollowee bool) ([]domain.Relation, error) {
	self, other := "f.follower_id", "f.followee_id"
	if byFollowee {
		self, other = "f.followee_id", "f.follower_id"
	}
	q := r.read(ctx).Table("follows AS f").
		Select("f.id AS cursor, u.id AS user_id, u.username, u.display_name, u.avatar_version, f.created_at AS since").
		Joins("JOIN users AS u ON u.id = "+other+" AND u.deleted_at IS NULL").
		Where(self+" = ? AND f.deleted_at IS NULL", userID)
	if cursor != "" {
		q = q.Where("f.id < ?", cursor)
	}
	if viewer != "" {
		q = q.Where("u.id NOT IN (?) AND u.id NOT IN (?)",
			r.db.Table("blocks").Select("blocked_id").Where("blocker_id = ? AND deleted_at IS NULL", viewer),
			r.db.Table("blocks").Select("blocker_id").Where("blocked_id = ? AND deleted_at IS NULL", viewer))
	}
	var out []domain.Relation
	if err := q.Order("f.id DESC").Limit(limit).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list relations: %w", database.Classify(err))
	}
	return out, nil
}

// Followers implements app.Repository.
func (r *Repository) Followers(ctx context.Context, userID, viewer, cursor string, limit int) ([]domain.Relation, error) {
	return r.relations(ctx, userID, viewer, cursor, limit, true)
}

// Following implements app.Repository.
func (r *Repository) Following(ctx context.Context, userID, viewer, cursor string, limit int) ([]domain.Relation, error) {
	return r.relations(ctx, userID, viewer, cursor, limit, false)
}

// FollowingIDs implements app.Repository.
func (r *Repository) FollowingIDs(ctx context.Context, userID, after string, limit int) ([]string, error) {
	var ids []string
	q := r.read(ctx).Model(&followRow{}).Where("follower_id = ?", userID)
	if after != "" {
		q = q.Where("followee_id > ?", after)
	}
	if err := q.Order("followee_id").Limit(limit).Pluck("followee_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("following ids: %w", database.Classify(err))
	}
	return ids, nil
}

// BlockedIDs implements app.Repository.
func (r *Repository) BlockedIDs(ctx context.Context, userID string) ([]string, error) {
	var rows []blockRow
	err := r.read(ctx).Where("blocker_id = ? OR blocked_id = ?", userID, userID).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("blocked ids: %w", database.Classify(err))
	}
	seen := map[string]bool{}
	ids := make([]string, 0, len(rows))
	for _, b := range rows {
		other := b.BlockedID
		if other == userID {
			other = b.BlockerID
		}
		if !seen[other] {
			seen[other] = true
			ids = append(ids, other)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// IsBlocked implements app.Repository.
func (r *Repository) IsBlocked(ctx context.Context, a, b string) (bool, error) {
	blocked, err := blockedEitherWay(r.read(ctx), a, b)
	if err != nil {
		return false, fmt.Errorf("is blocked: %w", database.Classify(err))
	}
	return blocked, nil
}

// CountersConsistent reports users whose counters differ from their live
// relationship rows (tests and the fault checker use it).
func (r *Repository) CountersConsistent(ctx context.Context) ([]string, error) {
	var bad []string
	err := r.read(ctx).Raw(`
SELECT u.id FROM users u
WHERE u.deleted_at IS NULL AND (
  u.follower_count  <> (SELECT COUNT(*) FROM follows f WHERE f.followee_id = u.id AND f.deleted_at IS NULL) OR
  u.following_count <> (SELECT COUNT(*) FROM follows f WHERE f.follower_id = u.id AND f.deleted_at IS NULL))`).
		Scan(&bad).Error
	return bad, err
}
