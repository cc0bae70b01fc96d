package app

import (
	"context"
	"time"

	"pixshare/platform/apperror"
	"pixshare/platform/auth"
	"pixshare/user/internal/domain"
)

// AuthResult is the answer to Authenticate for a genuine token.
type AuthResult struct {
	User      domain.User
	Found     bool
	ExpiresAt time.Time
}

// Authenticate verifies a token and reports its user's current status. A
// forged, expired or revoked token is Unauthenticated; a genuine token of a
// deleted or unknown user is answered with that status, for callers to
// refuse.
func (s *Service) Authenticate(ctx context.Context, token string) (AuthResult, error) {
	claims, err := s.tokens.Verify(token)
	if err != nil {
		return AuthResult{}, err
	}
	u, found, err := s.repo.ByIDIncludingDeleted(ctx, claims.UserID)
	if err != nil {
		return AuthResult{}, err
	}
	res := AuthResult{User: u, Found: found, ExpiresAt: claims.ExpiresAt}
	if !found || u.Status == domain.StatusDeleted {
		return res, nil
	}
	if claims.TokenVersion != u.TokenVersion {
		return AuthResult{}, apperror.Unauthenticatedf("token revoked")
	}
	return res, nil
}

// LocalAuthenticator lets the user service's own REST API authenticate
// without a network hop, with the same rules as every other service.
type LocalAuthenticator struct{ S *Service }

// Authenticate implements auth.Authenticator.
func (l LocalAuthenticator) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	res, err := l.S.Authenticate(ctx, token)
	if err != nil {
		return auth.Principal{}, err
	}
	switch {
	case !res.Found || res.User.Status == domain.StatusDeleted:
		return auth.Principal{}, apperror.Unauthenticatedf("account no longer exists")
	case res.User.Status == domain.StatusSuspended:
		return auth.Principal{}, apperror.Forbiddenf("account suspended")
	}
	return auth.Principal{UserID: res.User.ID, Username: res.User.Username, ExpiresAt: res.ExpiresAt.Unix()}, nil
}

// FollowingIDs pages through the ids userID follows.
func (s *Service) FollowingIDs(ctx context.Context, userID, after string, limit int) ([]string, error) {
	return s.repo.FollowingIDs(ctx, userID, after, limit)
}

// BlockedIDs returns the ids in a block relationship with userID.
func (s *Service) BlockedIDs(ctx context.Context, userID string) ([]string, error) {
	return s.repo.BlockedIDs(ctx, userID)
}

// IsBlocked reports whether either user blocks the other.
func (s *Service) IsBlocked(ctx context.Context, a, b string) (bool, error) {
	if a == b {
		return false, nil
	}
	return s.repo.IsBlocked(ctx, a, b)
}
