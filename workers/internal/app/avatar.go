package app

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"pixshare/contracts/media"
	"pixshare/platform/apperror"
	"pixshare/platform/blob"
	"pixshare/platform/logging"
	"pixshare/workers/internal/domain"
)

// Avatars is the part of the user service the thumbnailer reports avatars
// to; a report about a replaced or removed avatar is NotFound.
type Avatars interface {
	MarkReady(ctx context.Context, userID string, version int64) error
	MarkFailed(ctx context.Context, userID string, version int64, reason string) error
}

// AvatarRenderer makes the square avatar sizes of a picture, upright and
// without metadata (the same pipeline as posts).
type AvatarRenderer interface {
	RenderAvatar(ctx context.Context, original []byte) ([]domain.Rendition, error)
}

// MakeAvatar makes every avatar size of a user's new avatar and reports to
// the user service. Safe to deliver twice: the sizes are written again
// (same bytes) and the second report changes nothing.
func (t *Thumbnailer) MakeAvatar(ctx context.Context, req domain.AvatarRequest) error {
	log := logging.FromContext(ctx, t.logger).With(zap.String("user_id", req.UserID), zap.Int64("version", req.Version))
	key := fmt.Sprintf("avatar:%s:%d", req.UserID, req.Version)
	return t.attempt(ctx, log, key, func(reason string) error { return t.failAvatar(ctx, req, reason) }, func() error {
		return t.makeAvatar(ctx, log, req)
	})
}

func (t *Thumbnailer) makeAvatar(ctx context.Context, log *zap.Logger, req domain.AvatarRequest) error {
	// Admitted at the cost of a post's sizes: an upper bound, as the
	// avatar sizes are smaller.
	original, release, err := t.admit(ctx, req.OriginalKey, 0)
	var tooBig *tooBigError
	switch {
	case errors.Is(err, blob.ErrNotFound):
		return t.failAvatar(ctx, req, "the avatar upload is missing")
	case errors.As(err, &tooBig):
		return t.failAvatar(ctx, req, tooBig.Error())
	case unprocessable(err):
		return t.failAvatar(ctx, req, err.Error())
	case err != nil:
		return fmt.Errorf("read avatar upload: %w", err)
	}
	defer release()
	sizes, err := t.avatarRenderer.RenderAvatar(ctx, original)
	if unprocessable(err) {
		return t.failAvatar(ctx, req, err.Error())
	}
	if err != nil {
		return fmt.Errorf("make avatar: %w", err)
	}
	if err := t.store(ctx, sizes, func(name string) string { return media.AvatarKey(req.UserID, req.Version, name) }); err != nil {
		return fmt.Errorf("avatar: %w", err)
	}
	if err := t.avatars.MarkReady(ctx, req.UserID, req.Version); err != nil {
		if apperror.Is(err, apperror.NotFound) {
			log.Info("avatar replaced or removed meanwhile")
			return nil
		}
		return fmt.Errorf("report avatar ready: %w", err)
	}
	log.Info("avatar made", zap.Int("sizes", len(sizes)))
	return nil
}

func (t *Thumbnailer) failAvatar(ctx context.Context, req domain.AvatarRequest, reason string) error {
	if err := t.avatars.MarkFailed(ctx, req.UserID, req.Version, reason); err != nil && !apperror.Is(err, apperror.NotFound) {
		return fmt.Errorf("report avatar failure: %w", err)
	}
	return fmt.Errorf("%s: %w", reason, ErrPermanent)
}
