package app

import (
	"bytes"
	"context"
	"time"

	"go.uber.org/zap"

	"pixshare/contracts/media"
	"pixshare/platform/apperror"
	"pixshare/platform/logging"
	"pixshare/user/internal/domain"
)

// AvatarConfig bounds avatar pictures.
type AvatarConfig struct {
	MaxPixels int64
}

// PutAvatar stores a new avatar picture and asks the thumbnailer to make
// its sizes; the user's avatar changes once they are made. A refused
// picture stores nothing.
func (s *Service) PutAvatar(ctx context.Context, id string, image []byte) (domain.User, error) {
	if _, err := media.Inspect(bytes.NewReader(image), s.avatar.MaxPixels); err != nil {
		return domain.User{}, media.Problem(err, s.avatar.MaxPixels)
	}
	// Versions only grow: a time, so no read is needed to pick one. In
	// microseconds: the version travels in JSON events, and Dapr reads
	// their numbers as float64, exact only below 2^53.
	version := time.Now().UnixMicro()
	key := media.AvatarUploadKey(id, version)
	if err := s.images.Put(ctx, key, image); err != nil {
		return domain.User{}, err
	}
	if err := s.repo.NewAvatar(ctx, id, version); err != nil {
		if delErr := s.images.Delete(context.WithoutCancel(ctx), key); delErr != nil {
			logging.FromContext(ctx, s.logger).Warn("orphan avatar upload left", zap.String("key", key), zap.Error(delErr))
		}
		return domain.User{}, err
	}
	return s.repo.ByID(ctx, id)
}

// AvatarReady serves version as the user's avatar if it is still the one
// being made; it reports whether it was. Everyone's copies of the user's
// summary follow on the next read (the user's stamp).
func (s *Service) AvatarReady(ctx context.Context, id string, version int64) (bool, error) {
	var applied bool
	err := s.change(ctx, []string{id}, func() error {
		var err error
		applied, err = s.repo.SetAvatar(ctx, id, version)
		return err
	})
	return applied, err
}

// AvatarFailed gives up on version: the current avatar, if any, stays.
func (s *Service) AvatarFailed(ctx context.Context, id string, version int64) error {
	return s.repo.DropPendingAvatar(ctx, id, version)
}

// RemoveAvatar removes the user's avatar.
func (s *Service) RemoveAvatar(ctx context.Context, id string) error {
	return s.change(ctx, []string{id}, func() error {
		_, err := s.repo.SetAvatar(ctx, id, 0)
		return err
	})
}

// Avatar returns one size of id's avatar as viewer may see it (a user who
// blocks the viewer is NotFound, as their profile is), and its version.
func (s *Service) Avatar(ctx context.Context, viewer, id, size string) ([]byte, int64, error) {
	v, err := s.View(ctx, viewer, id)
	if err != nil {
		return nil, 0, err
	}
	if v.User.AvatarVersion == 0 {
		return nil, 0, apperror.NotFoundf("this user has no avatar")
	}
	data, err := s.images.Get(ctx, media.AvatarKey(id, v.User.AvatarVersion, size))
	if err != nil {
		return nil, 0, err
	}
	return data, v.User.AvatarVersion, nil
}
