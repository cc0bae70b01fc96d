// Package app holds the comment service's use cases.
package app

import (
	"context"
	"time"

	"github.com/google/uuid"

	"pixshare/comment/internal/domain"
	"pixshare/contracts/userclient"
	"pixshare/platform/apperror"
)

// Repository stores comments; writes that others must learn about enqueue
// their events in the same transaction.
type Repository interface {
	Create(ctx context.Context, c *domain.Comment) error
	ByID(ctx context.Context, postID, id string) (domain.Comment, error)
	UpdateBody(ctx context.Context, postID, id, actor, body string) (domain.Comment, error)
	Delete(ctx context.Context, postID, id, actor, postAuthor string) error
	// List pages a post's comments oldest first, leaving out authors in
	// exclude.
	List(ctx context.Context, postID, after string, exclude []string, limit int) ([]domain.Comment, error)
	// DeleteByPost removes a deleted post's comments and remembers the post
	// is gone, so no comment can be added to it afterwards.
	DeleteByPost(ctx context.Context, postID string) (int, error)
	// DeleteByAuthor removes a deleted user's comments (enqueueing
	// comment.deleted for each, so counts follow).
	DeleteByAuthor(ctx context.Context, authorID string) (int, error)
}

// Post is what the comment service knows of a post.
type Post struct {
	ID       string
	AuthorID string
}

// Posts looks up live posts (NotFound when missing or deleted).
type Posts interface {
	Get(ctx context.Context, postID string) (Post, error)
	// Forget drops what is cached about a post.
	Forget(ctx context.Context, postID string)
}

// Blocks answers who is in a block relationship with whom.
type Blocks interface {
	// Blocked returns the users in a block relationship with userID.
	Blocked(ctx context.Context, userID string) ([]string, error)
	// IsBlocked reports whether either user blocks the other.
	IsBlocked(ctx context.Context, a, b string) (bool, error)
}

// Author is what a comment shows of its author (the user service\'s summary).
type Author = userclient.Summary

// Authors looks authors up in the user service, one call per page.
type Authors interface {
	// Get returns the live users among ids; deleted ones are left out.
	Get(ctx context.Context, ids []string) (map[string]Author, error)
}

// Service is the comment use cases.
type Service struct {
	repo    Repository
	posts   Posts
	blocks  Blocks
	authors Authors
}

// NewService returns the use cases.
func NewService(repo Repository, posts Posts, blocks Blocks, authors Authors) *Service {
	return &Service{repo: repo, posts: posts, blocks: blocks, authors: authors}
}

// Get returns one comment of a post the viewer can see; a comment by a
// user in a block relationship with the viewer is NotFound.
func (s *Service) Get(ctx context.Context, viewer, postID, id string) (domain.Comment, error) {
	if _, err := s.visiblePost(ctx, postID, viewer); err != nil {
		return domain.Comment{}, err
	}
	c, err := s.repo.ByID(ctx, postID, id)
	if err != nil {
		return domain.Comment{}, err
	}
	if viewer != "" && viewer != c.AuthorID {
		blocked, err := s.blocks.IsBlocked(ctx, viewer, c.AuthorID)
		if err != nil {
			return domain.Comment{}, err
		}
		if blocked {
			return domain.Comment{}, apperror.NotFoundf("comment not found")
		}
	}
	return c, nil
}

// CommentView is a comment with its author.
type CommentView struct {
	domain.Comment
	Author Author
}

// Present adds authors to comments (one call to the user service).
func (s *Service) Present(ctx context.Context, comments []domain.Comment) ([]CommentView, error) {
	var ids []string
	seen := map[string]bool{}
	for _, c := range comments {
		if !seen[c.AuthorID] {
			seen[c.AuthorID] = true
			ids = append(ids, c.AuthorID)
		}
	}
	authors, err := s.authors.Get(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]CommentView, len(comments))
	for i, c := range comments {
		a, ok := authors[c.AuthorID]
		if !ok {
			a = Author{ID: c.AuthorID}
		}
		out[i] = CommentView{Comment: c, Author: a}
	}
	return out, nil
}

// ErrNoPost is what a viewer gets for a post that is missing, deleted or
// hidden from them by a block: the same answer, so a block reveals nothing.
var ErrNoPost = apperror.New(apperror.NotFound, "post not found")

// visiblePost returns the post when viewer ("" for anonymous) may see it:
// it exists, and viewer and its author do not block each other.
func (s *Service) visiblePost(ctx context.Context, postID, viewer string) (Post, error) {
	post, err := s.posts.Get(ctx, postID)
	if err != nil {
		return Post{}, err
	}
	if viewer == "" || viewer == post.AuthorID {
		return post, nil
	}
	blocked, err := s.blocks.IsBlocked(ctx, viewer, post.AuthorID)
	if err != nil {
		return Post{}, err
	}
	if blocked {
		return Post{}, ErrNoPost
	}
	return post, nil
}

// List pages the comments of a post the viewer can see.
func (s *Service) List(ctx context.Context, viewer, postID, after string, limit int) ([]domain.Comment, error) {
	if _, err := s.visiblePost(ctx, postID, viewer); err != nil {
		return nil, err
	}
	var exclude []string
	if viewer != "" {
		var err error
		if exclude, err = s.blocks.Blocked(ctx, viewer); err != nil {
			return nil, err
		}
	}
	return s.repo.List(ctx, postID, after, exclude, limit)
}

// Create comments on a post the actor can see.
func (s *Service) Create(ctx context.Context, actor, postID, body string) (domain.Comment, error) {
	body, err := domain.CheckBody(body)
	if err != nil {
		return domain.Comment{}, err
	}
	if _, err := s.visiblePost(ctx, postID, actor); err != nil {
		return domain.Comment{}, err
	}
	c := domain.Comment{ID: uuid.Must(uuid.NewV7()).String(), PostID: postID, AuthorID: actor, Body: body,
		CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	if err := s.repo.Create(ctx, &c); err != nil {
		return domain.Comment{}, err
	}
	return c, nil
}

// Edit changes a comment's body; only its author may.
func (s *Service) Edit(ctx context.Context, actor, postID, id, body string) (domain.Comment, error) {
	body, err := domain.CheckBody(body)
	if err != nil {
		return domain.Comment{}, err
	}
	if _, err := s.visiblePost(ctx, postID, actor); err != nil {
		return domain.Comment{}, err
	}
	return s.repo.UpdateBody(ctx, postID, id, actor, body)
}

// Delete removes a comment; its author or the post's author may.
func (s *Service) Delete(ctx context.Context, actor, postID, id string) error {
	post, err := s.visiblePost(ctx, postID, actor)
	if err != nil {
		return err
	}
	if err := s.repo.Delete(ctx, postID, id, actor, post.AuthorID); err != nil {
		return err
	}
	return nil
}

// OnPostDeleted removes the comments of a deleted post.
func (s *Service) OnPostDeleted(ctx context.Context, postID string) error {
	if postID == "" {
		return apperror.Invalidf("post_id missing")
	}
	_, err := s.repo.DeleteByPost(ctx, postID)
	if err == nil {
		s.posts.Forget(ctx, postID)
	}
	return err
}

// OnUserDeleted removes the comments of a deleted user.
func (s *Service) OnUserDeleted(ctx context.Context, userID string) error {
	if userID == "" {
		return apperror.Invalidf("user_id missing")
	}
	n, err := s.repo.DeleteByAuthor(ctx, userID)
	if err == nil && n > 0 {
	}
	return err
}
