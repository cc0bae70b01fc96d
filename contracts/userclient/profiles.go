package userclient

import (
	"context"
	"fmt"
	"time"

	"pixshare/contracts/stamps"
	"pixshare/platform/cache"
	userv1 "pixshare/proto/user/v1"
)

// Summary is what every post, comment, search hit and like shows of its
// author.
type Summary struct {
	ID          string
	Username    string
	DisplayName string
	AvatarURL   string
}

// Profiles looks authors up in the user service (user.v1.ProfileService)
// for a whole page in one call, keeping summaries in process checked
// against each user's stamp: a rename or a new avatar shows on the next
// read.
type Profiles struct {
	rpc   userv1.ProfileServiceClient
	cache *cache.Checked[Summary]
}

// NewProfiles returns Profiles over rpc, with copies checked against s.
func NewProfiles(rpc userv1.ProfileServiceClient, s cache.StampStore) *Profiles {
	return &Profiles{rpc: rpc, cache: cache.NewChecked[Summary](s, 20000, 10*time.Minute)}
}

// MaxBatch is the most users one call looks up.
const MaxBatch = 100

// Get returns the summaries of the live users among ids (deleted or
// unknown users are left out).
func (p *Profiles) Get(ctx context.Context, ids []string) (map[string]Summary, error) {
	if len(ids) <= MaxBatch {
		// One batch (a post's author, a page): its map is the answer.
		return p.batch(ctx, ids)
	}
	out := make(map[string]Summary, len(ids))
	for start := 0; start < len(ids); start += MaxBatch {
		got, err := p.batch(ctx, ids[start:min(start+MaxBatch, len(ids))])
		if err != nil {
			return nil, err
		}
		for k, v := range got {
			out[k] = v
		}
	}
	return out, nil
}

// batch is Get for at most MaxBatch ids.
func (p *Profiles) batch(ctx context.Context, ids []string) (map[string]Summary, error) {
	subjects := make([]string, len(ids))
	for i, id := range ids {
		subjects[i] = stamps.User(id)
	}
	return p.cache.GetMany(ctx, ids, subjects, func(ctx context.Context, missing []string) (map[string]Summary, error) {
		res, err := p.rpc.GetProfiles(ctx, &userv1.GetProfilesRequest{UserIds: missing})
		if err != nil {
			return nil, fmt.Errorf("get %d profiles: %w", len(missing), err)
		}
		m := make(map[string]Summary, len(res.GetProfiles()))
		for _, pr := range res.GetProfiles() {
			m[pr.GetId()] = Summary{ID: pr.GetId(), Username: pr.GetUsername(), DisplayName: pr.GetDisplayName(), AvatarURL: pr.GetAvatarUrl()}
		}
		return m, nil
	})
}
