package ports

import (
	"context"

	"pixshare/platform/apperror"
	userv1 "pixshare/proto/user/v1"
	"pixshare/user/internal/app"
	"pixshare/user/internal/domain"
)

// GRPC serves user.v1 to other services (through their sidecars).
type GRPC struct {
	userv1.UnimplementedAuthServiceServer
	userv1.UnimplementedGraphServiceServer
	userv1.UnimplementedProfileServiceServer
	userv1.UnimplementedAvatarServiceServer
	svc *app.Service
}

// NewGRPC returns the gRPC servers over svc.
func NewGRPC(svc *app.Service) *GRPC { return &GRPC{svc: svc} }

// Authenticate implements userv1.AuthServiceServer.
func (g *GRPC) Authenticate(ctx context.Context, req *userv1.AuthenticateRequest) (*userv1.AuthenticateResponse, error) {
	res, err := g.svc.Authenticate(ctx, req.GetToken())
	if apperror.Is(err, apperror.Unauthenticated) {
		return &userv1.AuthenticateResponse{Status: userv1.UserStatus_USER_STATUS_INVALID_TOKEN}, nil
	}
	if err != nil {
		return nil, err
	}
	out := &userv1.AuthenticateResponse{
		UserId:    res.User.ID,
		Username:  res.User.Username,
		ExpiresAt: res.ExpiresAt.Unix(),
	}
	switch {
	case !res.Found:
		out.Status = userv1.UserStatus_USER_STATUS_UNKNOWN
	case res.User.Status == domain.StatusDeleted:
		out.Status = userv1.UserStatus_USER_STATUS_DELETED
	case res.User.Status == domain.StatusSuspended:
		out.Status = userv1.UserStatus_USER_STATUS_SUSPENDED
	default:
		out.Status = userv1.UserStatus_USER_STATUS_ACTIVE
	}
	return out, nil
}

const maxPageSize = 1000

// ListFollowing implements userv1.GraphServiceServer.
func (g *GRPC) ListFollowing(ctx context.Context, req *userv1.ListFollowingRequest) (*userv1.ListFollowingResponse, error) {
	if req.GetUserId() == "" {
		return nil, apperror.Invalidf("user_id is required")
	}
	size := int(req.GetPageSize())
	if size <= 0 || size > maxPageSize {
		size = maxPageSize
	}
	ids, err := g.svc.FollowingIDs(ctx, req.GetUserId(), req.GetPageToken(), size+1)
	if err != nil {
		return nil, err
	}
	out := &userv1.ListFollowingResponse{}
	if len(ids) > size {
		ids = ids[:size]
		out.NextPageToken = ids[size-1]
	}
	out.UserIds = ids
	return out, nil
}

// ListBlocked implements userv1.GraphServiceServer.
func (g *GRPC) ListBlocked(ctx context.Context, req *userv1.ListBlockedRequest) (*userv1.ListBlockedResponse, error) {
	if req.GetUserId() == "" {
		return nil, apperror.Invalidf("user_id is required")
	}
	ids, err := g.svc.BlockedIDs(ctx, req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &userv1.ListBlockedResponse{UserIds: ids}, nil
}

// IsBlocked implements userv1.GraphServiceServer.
func (g *GRPC) IsBlocked(ctx context.Context, req *userv1.IsBlockedRequest) (*userv1.IsBlockedResponse, error) {
	if req.GetUserId() == "" || req.GetOtherUserId() == "" {
		return nil, apperror.Invalidf("user_id and other_user_id are required")
	}
	blocked, err := g.svc.IsBlocked(ctx, req.GetUserId(), req.GetOtherUserId())
	if err != nil {
		return nil, err
	}
	return &userv1.IsBlockedResponse{Blocked: blocked}, nil
}

// GetProfiles implements userv1.ProfileServiceServer.
func (g *GRPC) GetProfiles(ctx context.Context, req *userv1.GetProfilesRequest) (*userv1.GetProfilesResponse, error) {
	users, err := g.svc.Profiles(ctx, req.GetUserIds())
	if err != nil {
		return nil, err
	}
	out := &userv1.GetProfilesResponse{Profiles: make([]*userv1.Profile, len(users))}
	for i, u := range users {
		out.Profiles[i] = &userv1.Profile{Id: u.ID, Username: u.Username, DisplayName: u.DisplayName, AvatarUrl: u.AvatarURL()}
	}
	return out, nil
}

// avatarStale answers a report about an avatar that was replaced or
// removed meanwhile, or a user who is gone: acknowledged, not an error.
const avatarStale = "stale"

// MarkAvatarReady implements userv1.AvatarServiceServer.
func (g *GRPC) MarkAvatarReady(ctx context.Context, req *userv1.MarkAvatarReadyRequest) (*userv1.MarkAvatarReadyResponse, error) {
	if req.GetUserId() == "" || req.GetVersion() < 1 {
		return nil, apperror.Invalidf("user_id and a positive version are required")
	}
	applied, err := g.svc.AvatarReady(ctx, req.GetUserId(), req.GetVersion())
	if err != nil {
		return nil, err
	}
	if !applied {
		return &userv1.MarkAvatarReadyResponse{Status: avatarStale}, nil
	}
	return &userv1.MarkAvatarReadyResponse{Status: "ready"}, nil
}

// MarkAvatarFailed implements userv1.AvatarServiceServer.
func (g *GRPC) MarkAvatarFailed(ctx context.Context, req *userv1.MarkAvatarFailedRequest) (*userv1.MarkAvatarFailedResponse, error) {
	if req.GetUserId() == "" || req.GetVersion() < 1 {
		return nil, apperror.Invalidf("user_id and a positive version are required")
	}
	if err := g.svc.AvatarFailed(ctx, req.GetUserId(), req.GetVersion()); err != nil {
		return nil, err
	}
	return &userv1.MarkAvatarFailedResponse{Status: "failed"}, nil
}
