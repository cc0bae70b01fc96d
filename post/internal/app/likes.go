package app

import (
	"context"

	"pixshare/contracts/stamps"
	"pixshare/contracts/tags"
	"pixshare/platform/apperror"
	"pixshare/post/internal/domain"
)

// Like makes actor like a post they can see (a post hidden by a block is
// NotFound, as it is to read). Idempotent.
func (s *Service) Like(ctx context.Context, actor, id string) error {
	if _, err := s.Get(ctx, actor, id); err != nil {
		return err
	}
	if err := s.repo.Like(ctx, id, actor); err != nil {
		return err
	}
	s.stamps.Touch(ctx, []string{stamps.Post(id)})
	return nil
}

// Unlike undoes Like. Idempotent.
func (s *Service) Unlike(ctx context.Context, actor, id string) error {
	if _, err := s.Get(ctx, actor, id); err != nil {
		return err
	}
	if err := s.repo.Unlike(ctx, id, actor); err != nil {
		return err
	}
	s.stamps.Touch(ctx, []string{stamps.Post(id)})
	return nil
}

// Likes pages who liked a post the viewer can see, leaving out users in a
// block relationship with the viewer.
func (s *Service) Likes(ctx context.Context, viewer, id, before string, limit int) ([]domain.Like, error) {
	if _, err := s.Get(ctx, viewer, id); err != nil {
		return nil, err
	}
	exclude, err := s.hidden(ctx, viewer)
	if err != nil {
		return nil, err
	}
	return s.repo.Likers(ctx, id, exclude, before, limit)
}

// Timeline pages every ready post newest first, or those of one tag, as
// the viewer ("" for anonymous) may see them.
func (s *Service) Timeline(ctx context.Context, viewer, tag, before string, limit int) ([]domain.Post, error) {
	if tag != "" {
		norm, err := tags.Normalize(tag)
		if err != nil {
			return nil, apperror.Invalidf("%s", err.Error()).WithFields(apperror.FieldError{Field: "tag", Message: "invalid tag"})
		}
		tag = norm
	}
	exclude, err := s.hidden(ctx, viewer)
	if err != nil {
		return nil, err
	}
	return s.repo.Timeline(ctx, tag, exclude, before, limit)
}

// hidden lists the users whose content viewer must not see (blocks either
// way).
func (s *Service) hidden(ctx context.Context, viewer string) ([]string, error) {
	if viewer == "" {
		return nil, nil
	}
	return s.graph.Blocked(ctx, viewer)
}

// PostView is a post as a viewer sees it: with its author and whether the
// viewer likes it.
type PostView struct {
	domain.Post
	Author Author
	Liked  bool
}

// Present adds authors (one call to the user service for the page) and the
// viewer's likes to posts.
func (s *Service) Present(ctx context.Context, viewer string, posts []domain.Post) ([]PostView, error) {
	ids := make([]string, 0, len(posts))
	postIDs := make([]string, len(posts))
	seen := map[string]bool{}
	for i, p := range posts {
		postIDs[i] = p.ID
		if !seen[p.AuthorID] {
			seen[p.AuthorID] = true
			ids = append(ids, p.AuthorID)
		}
	}
	authors, err := s.authors.Get(ctx, ids)
	if err != nil {
		return nil, err
	}
	liked, err := s.likedBy(ctx, viewer, postIDs)
	if err != nil {
		return nil, err
	}
	out := make([]PostView, len(posts))
	for i, p := range posts {
		a, ok := authors[p.AuthorID]
		if !ok {
			a = Author{ID: p.AuthorID}
		}
		out[i] = PostView{Post: p, Author: a, Liked: liked[p.ID]}
	}
	return out, nil
}

// LikerViews adds the users behind likes.
func (s *Service) LikerViews(ctx context.Context, likes []domain.Like) ([]Author, error) {
	ids := make([]string, len(likes))
	for i, l := range likes {
		ids[i] = l.UserID
	}
	authors, err := s.authors.Get(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Author, len(likes))
	for i, l := range likes {
		a, ok := authors[l.UserID]
		if !ok {
			a = Author{ID: l.UserID}
		}
		out[i] = a
	}
	return out, nil
}

// likedBy says which of postIDs viewer likes. A single post, which clients
// read again and again (its page, a poll until it is ready), is answered
// from this replica's copy while the post's stamp holds (a like renews
// it); a page of posts takes one query for all of them.
func (s *Service) likedBy(ctx context.Context, viewer string, postIDs []string) (map[string]bool, error) {
	if viewer == "" || len(postIDs) != 1 {
		return s.repo.LikedBy(ctx, viewer, postIDs)
	}
	id := postIDs[0]
	liked, err := s.liked.Get(ctx, viewer+"/"+id, []string{stamps.Post(id)}, func(ctx context.Context) (bool, error) {
		got, err := s.repo.LikedBy(ctx, viewer, postIDs)
		return got[id], err
	})
	if err != nil {
		return nil, err
	}
	return map[string]bool{id: liked}, nil
}
