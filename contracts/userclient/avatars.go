package userclient

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	"pixshare/platform/apperror"
	"pixshare/platform/sidecar"
	userv1 "pixshare/proto/user/v1"
)

// Avatars is the thumbnailer's line to the user service: its reports about
// the avatars it makes.
type Avatars struct{ rpc userv1.AvatarServiceClient }

// NewAvatarsThroughSidecar returns Avatars calling the user service through
// the app's sidecar connection.
func NewAvatarsThroughSidecar(conn *grpc.ClientConn) *Avatars {
	return &Avatars{rpc: userv1.NewAvatarServiceClient(sidecar.NewAppConn(conn, AppID))}
}

// MarkReady reports that every size of avatar version exists. A report
// about an avatar replaced or removed meanwhile is NotFound.
func (a *Avatars) MarkReady(ctx context.Context, userID string, version int64) error {
	res, err := a.rpc.MarkAvatarReady(ctx, &userv1.MarkAvatarReadyRequest{UserId: userID, Version: version})
	if err != nil {
		return fmt.Errorf("mark avatar ready: %w", err)
	}
	if res.GetStatus() == "stale" {
		return apperror.NotFoundf("avatar %d of %s was replaced or removed", version, userID)
	}
	return nil
}

// MarkFailed reports that the picture cannot be made into an avatar.
func (a *Avatars) MarkFailed(ctx context.Context, userID string, version int64, reason string) error {
	_, err := a.rpc.MarkAvatarFailed(ctx, &userv1.MarkAvatarFailedRequest{UserId: userID, Version: version, Reason: reason})
	if err != nil {
		return fmt.Errorf("mark avatar failed: %w", err)
	}
	return nil
}
