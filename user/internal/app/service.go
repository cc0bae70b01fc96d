package app

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"pixshare/contracts/stamps"
	"pixshare/platform/apperror"
	"pixshare/platform/cache"
	"pixshare/user/internal/domain"
)

// Service is the user service's use cases.
type Service struct {
	repo   Repository
	hasher PasswordHasher
	tokens Tokens
	// stamps tell every other service's caches what changed: every change
	// of a user's tokens, status, follows, blocks or profile replaces the
	// user's stamp (contracts/stamps) before its response leaves.
	stamps cache.StampStore
	images Images
	avatar AvatarConfig
	logger *zap.Logger
	// dummyHash makes a login for an unknown account cost as much as one
	// for a known account, so timing does not reveal which exist.
	dummyHash string
}

// NewService returns the use cases over the given ports.
func NewService(repo Repository, hasher PasswordHasher, tokens Tokens, s cache.StampStore, images Images, avatar AvatarConfig, logger *zap.Logger) (*Service, error) {
	dummy, err := hasher.Hash("not-a-real-password-" + uuid.NewString())
	if err != nil {
		return nil, err
	}
	return &Service{repo: repo, hasher: hasher, tokens: tokens, stamps: s, images: images, avatar: avatar, logger: logger, dummyHash: dummy}, nil
}

// Register creates an account. A taken email is not revealed (see below).
func (s *Service) Register(ctx context.Context, username, email, password string) (domain.User, error) {
	reg, err := domain.NewRegistration(username, email, password)
	if err != nil {
		return domain.User{}, err
	}
	hash, err := s.hasher.Hash(reg.Password)
	if err != nil {
		return domain.User{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return domain.User{}, err
	}
	u := domain.User{
		ID: id.String(), Username: reg.Username, Email: reg.Email, PasswordHash: hash, Status: domain.StatusActive,
	}
	if err := s.repo.Create(ctx, &u); err != nil {
		if e, ok := apperror.As(err); ok && e.Kind == apperror.Conflict && len(e.Fields) == 1 && e.Fields[0].Field == "email" {
			// The address has an account. Answering 409 would tell anyone
			// whether an address is registered, so the answer looks like a
			// success (the same shape, as long in coming: the hash above
			// was made all the same) and nothing is stored. Usernames are
			// public, so their conflicts are reported.
			u.CreatedAt = time.Now().UTC()
			return u, nil
		}
		return domain.User{}, err
	}
	return u, nil
}

// LoginResult is a successful login.
type LoginResult struct {
	Token     string
	ExpiresIn time.Duration
	User      domain.User
}

var errBadCredentials = apperror.Unauthenticatedf("invalid login or password")

// Login checks credentials (username or email) and issues a token. Every
// failure looks the same: wrong password, unknown account, deleted account.
func (s *Service) Login(ctx context.Context, login, password string) (LoginResult, error) {
	if login == "" || password == "" {
		return LoginResult{}, apperror.New(apperror.Unprocessable, "login (username or email) and password are required").
			WithFields(apperror.FieldError{Field: "password", Message: "required"})
	}
	u, err := s.repo.ByLogin(ctx, login)
	if err != nil {
		if !errors.Is(err, domain.ErrNoUser) {
			return LoginResult{}, err
		}
		// The same work as a real check, so timing does not tell unknown
		// accounts apart; a busy hasher is 503 here too, for the same reason.
		if _, err := s.hasher.Verify(password, s.dummyHash); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, errBadCredentials
	}
	ok, err := s.hasher.Verify(password, u.PasswordHash)
	if err != nil {
		return LoginResult{}, err
	}
	if !ok || u.Status != domain.StatusActive {
		return LoginResult{}, errBadCredentials
	}
	token, expiresIn, err := s.tokens.Issue(u)
	if err != nil {
		return LoginResult{}, err
	}
	return LoginResult{Token: token, ExpiresIn: expiresIn, User: u}, nil
}

// Me returns the caller's own account.
func (s *Service) Me(ctx context.Context, id string) (domain.User, error) {
	return s.repo.ByID(ctx, id)
}

// UpdateMe edits the caller's profile. A new password revokes every token
// issued before (the caller logs in again).
func (s *Service) UpdateMe(ctx context.Context, id string, patch domain.ProfilePatch) (domain.User, error) {
	if err := patch.Validate(); err != nil {
		return domain.User{}, err
	}
	if patch.Sensitive() {
		if err := s.checkPassword(ctx, id, patch.CurrentPassword); err != nil {
			return domain.User{}, err
		}
	}
	var newHash string
	if patch.Password != nil {
		h, err := s.hasher.Hash(*patch.Password)
		if err != nil {
			return domain.User{}, err
		}
		newHash = h
	}
	var u domain.User
	err := s.change(ctx, []string{id}, func() error {
		var err error
		u, err = s.repo.UpdateProfile(ctx, id, func(u *domain.User) error {
			if patch.DisplayName != nil {
				u.DisplayName = *patch.DisplayName
			}
			if patch.Bio != nil {
				u.Bio = *patch.Bio
			}
			if patch.Email != nil {
				u.Email = *patch.Email
			}
			if newHash != "" {
				u.PasswordHash = newHash
				u.TokenVersion++
			}
			return nil
		})
		return err
	})
	if err != nil {
		return domain.User{}, err
	}
	return u, nil
}

// change runs write, which changes what other services may cache about
// users (their tokens, status, follows, blocks or profile), between marking
// those users' stamps pending and renewing them. When the stamps cannot be
// told, nothing is written and the caller gets 503: a change nobody's
// cache would notice is refused rather than made.
func (s *Service) change(ctx context.Context, users []string, write func() error) error {
	subjects := make([]string, len(users))
	for i, id := range users {
		subjects[i] = stamps.User(id)
	}
	err := s.stamps.Change(ctx, subjects, write)
	cache.Forget(ctx, subjects...)
	return err
}

// Logout revokes every token of the caller.
func (s *Service) Logout(ctx context.Context, id string) error {
	return s.change(ctx, []string{id}, func() error { return s.repo.BumpTokenVersion(ctx, id) })
}

// checkPassword verifies the caller's current password before a change
// that could take the account over.
func (s *Service) checkPassword(ctx context.Context, id string, current *string) error {
	if current == nil || *current == "" {
		return domain.ErrWrongPassword
	}
	u, err := s.repo.ByID(ctx, id)
	if err != nil {
		return err
	}
	ok, err := s.hasher.Verify(*current, u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		return domain.ErrWrongPassword
	}
	return nil
}

// DeleteMe deletes the caller's account, which needs its current password,
// and tells the other services. Only the account's own stamp changes:
// lists of other users that still name it (whom they follow or block) lead
// to nothing, since its content goes with it.
func (s *Service) DeleteMe(ctx context.Context, id, currentPassword string) error {
	if err := s.checkPassword(ctx, id, &currentPassword); err != nil {
		return err
	}
	return s.change(ctx, []string{id}, func() error {
		_, err := s.repo.Delete(ctx, id)
		return err
	})
}

// Profile returns a user's public profile, or NotFound when the viewer and
// the user block each other (as if the user did not exist). Profiles are
// read from the database, which is their owner: nothing to go stale.
func (s *Service) Profile(ctx context.Context, viewer, id string) (domain.User, error) {
	if viewer != "" && viewer != id {
		blocked, err := s.repo.IsBlocked(ctx, viewer, id)
		if err != nil {
			return domain.User{}, err
		}
		if blocked {
			return domain.User{}, domain.ErrNoUser
		}
	}
	return s.repo.ByID(ctx, id)
}

// ProfileView is a profile as a viewer sees it: with how the viewer stands
// to the user (nil for an anonymous viewer or oneself).
type ProfileView struct {
	User         domain.User
	Relationship *domain.Relationship
}

// View returns id's profile as viewer ("" for anonymous) sees it. A user
// who blocks the viewer is NotFound to them; the viewer still sees whom
// they block themselves (Blocking), so they can unblock.
func (s *Service) View(ctx context.Context, viewer, id string) (ProfileView, error) {
	u, err := s.repo.ByID(ctx, id)
	if err != nil {
		return ProfileView{}, err
	}
	return s.view(ctx, viewer, u)
}

// Lookup finds a user by username, ignoring case.
func (s *Service) Lookup(ctx context.Context, viewer, username string) (ProfileView, error) {
	name, err := domain.ParseUsername(username)
	if err != nil {
		return ProfileView{}, domain.ErrNoUser
	}
	u, err := s.repo.ByUsername(ctx, name)
	if err != nil {
		return ProfileView{}, err
	}
	return s.view(ctx, viewer, u)
}

func (s *Service) view(ctx context.Context, viewer string, u domain.User) (ProfileView, error) {
	if viewer == "" || viewer == u.ID {
		return ProfileView{User: u}, nil
	}
	rel, err := s.repo.Relationship(ctx, viewer, u.ID)
	if err != nil {
		return ProfileView{}, err
	}
	if rel.BlockedBy {
		return ProfileView{}, domain.ErrNoUser
	}
	return ProfileView{User: u, Relationship: &rel}, nil
}

// MaxSearchPrefix bounds a people search's prefix.
const MaxSearchPrefix = 50

// SearchUsers pages the users whose username or display name starts with
// q, best matches first (the exact username, then usernames, then display
// names); users in a block relationship with the viewer are left out.
func (s *Service) SearchUsers(ctx context.Context, viewer, q, cursor string, limit int) ([]domain.UserHit, error) {
	q = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(q), "@"))
	if q == "" || utf8.RuneCountInString(q) > MaxSearchPrefix || !utf8.ValidString(q) {
		return nil, apperror.Invalidf("q must be 1 to %d characters", MaxSearchPrefix).
			WithFields(apperror.FieldError{Field: "q", Message: "1 to 50 characters"})
	}
	return s.repo.SearchUsers(ctx, q, viewer, cursor, limit)
}

// Blocks pages the accounts userID blocks.
func (s *Service) Blocks(ctx context.Context, userID, cursor string, limit int) ([]domain.Relation, error) {
	return s.repo.Blocks(ctx, userID, cursor, limit)
}

// MaxProfiles bounds a GetProfiles batch.
const MaxProfiles = 100

// Profiles returns the live users among ids (author summaries of a page).
func (s *Service) Profiles(ctx context.Context, ids []string) ([]domain.User, error) {
	if len(ids) > MaxProfiles {
		return nil, apperror.Invalidf("at most %d users at once", MaxProfiles)
	}
	if len(ids) == 0 {
		return []domain.User{}, nil
	}
	return s.repo.ByIDs(ctx, ids)
}

// Follow makes actor follow target (actor's following list changes).
func (s *Service) Follow(ctx context.Context, actor, target string) error {
	if err := domain.CheckFollow(actor, target); err != nil {
		return err
	}
	return s.change(ctx, []string{actor}, func() error { return s.repo.Follow(ctx, actor, target) })
}

// Unfollow undoes Follow.
func (s *Service) Unfollow(ctx context.Context, actor, target string) error {
	if err := domain.CheckFollow(actor, target); err != nil {
		return err
	}
	return s.change(ctx, []string{actor}, func() error { return s.repo.Unfollow(ctx, actor, target) })
}

// Block makes actor block target, removing follows both ways; both users'
// stamps change, so either one covers the pair.
func (s *Service) Block(ctx context.Context, actor, target string) error {
	if err := domain.CheckBlock(actor, target); err != nil {
		return err
	}
	return s.change(ctx, []string{actor, target}, func() error { return s.repo.Block(ctx, actor, target) })
}

// Unblock undoes Block (follows stay removed).
func (s *Service) Unblock(ctx context.Context, actor, target string) error {
	if err := domain.CheckBlock(actor, target); err != nil {
		return err
	}
	return s.change(ctx, []string{actor, target}, func() error { return s.repo.Unblock(ctx, actor, target) })
}

// Followers lists who follows id, as seen by viewer.
func (s *Service) Followers(ctx context.Context, viewer, id, cursor string, limit int) ([]domain.Relation, error) {
	if _, err := s.Profile(ctx, viewer, id); err != nil {
		return nil, err
	}
	return s.repo.Followers(ctx, id, viewer, cursor, limit)
}

// Following lists whom id follows, as seen by viewer.
func (s *Service) Following(ctx context.Context, viewer, id, cursor string, limit int) ([]domain.Relation, error) {
	if _, err := s.Profile(ctx, viewer, id); err != nil {
		return nil, err
	}
	return s.repo.Following(ctx, id, viewer, cursor, limit)
}

// SetSuspended suspends or reinstates the account named username (an
// operator's action). A suspended account's tokens are refused with 403 on
// the next request everywhere, and it cannot log in.
func (s *Service) SetSuspended(ctx context.Context, username string, suspended bool) (domain.User, error) {
	name, err := domain.ParseUsername(username)
	if err != nil {
		return domain.User{}, err
	}
	u, err := s.repo.ByUsername(ctx, name)
	if err != nil {
		return domain.User{}, err
	}
	status := domain.StatusActive
	if suspended {
		status = domain.StatusSuspended
	}
	err = s.change(ctx, []string{u.ID}, func() error { return s.repo.SetStatus(ctx, u.ID, status) })
	if err != nil {
		return domain.User{}, err
	}
	u.Status = status
	return u, nil
}
