package ports

import (
	"context"

	"pixshare/contracts/postclient"
	"pixshare/platform/apperror"
	"pixshare/post/internal/app"
	"pixshare/post/internal/domain"
	postv1 "pixshare/proto/post/v1"
)

// GRPC serves post.v1 to the other services and the workers.
type GRPC struct {
	postv1.UnimplementedPostServiceServer
	svc *app.Service
}

// NewGRPC returns the gRPC server over svc.
func NewGRPC(svc *app.Service) *GRPC { return &GRPC{svc: svc} }

func toProto(p domain.Post) *postv1.Post {
	return &postv1.Post{
		Id: p.ID, AuthorId: p.AuthorID, Caption: p.Caption, Tags: p.Tags, Status: string(p.Status),
		ThumbnailReady: p.ThumbnailReady, Indexed: p.Indexed(), Version: p.Version,
		CreatedAt: p.CreatedAt.UnixMilli(), UpdatedAt: p.UpdatedAt.UnixMilli(), OriginalKey: p.OriginalKey,
		CommentCount: max(p.CommentCount, 0), AltText: p.AltText, LikeCount: max(p.LikeCount, 0),
	}
}

// GetPost implements postv1.PostServiceServer.
func (g *GRPC) GetPost(ctx context.Context, req *postv1.GetPostRequest) (*postv1.GetPostResponse, error) {
	if req.GetPostId() == "" {
		return nil, apperror.Invalidf("post_id is required")
	}
	p, err := g.svc.Get(ctx, req.GetViewerId(), req.GetPostId())
	if apperror.Is(err, apperror.NotFound) {
		return &postv1.GetPostResponse{Found: false}, nil
	}
	if err != nil {
		return nil, err
	}
	return &postv1.GetPostResponse{Found: true, Post: toProto(p)}, nil
}

// GetPosts implements postv1.PostServiceServer.
func (g *GRPC) GetPosts(ctx context.Context, req *postv1.GetPostsRequest) (*postv1.GetPostsResponse, error) {
	posts, err := g.svc.GetMany(ctx, req.GetViewerId(), req.GetPostIds())
	if err != nil {
		return nil, err
	}
	out := &postv1.GetPostsResponse{Posts: make([]*postv1.Post, len(posts))}
	for i, p := range posts {
		out.Posts[i] = toProto(p)
	}
	return out, nil
}

const maxListPage = 500

// ListPosts implements postv1.PostServiceServer.
func (g *GRPC) ListPosts(ctx context.Context, req *postv1.ListPostsRequest) (*postv1.ListPostsResponse, error) {
	size := int(req.GetPageSize())
	if size <= 0 || size > maxListPage {
		size = maxListPage
	}
	posts, err := g.svc.All(ctx, req.GetPageToken(), size+1)
	if err != nil {
		return nil, err
	}
	out := &postv1.ListPostsResponse{}
	if len(posts) > size {
		posts = posts[:size]
		out.NextPageToken = posts[size-1].ID
	}
	for _, p := range posts {
		out.Posts = append(out.Posts, toProto(p))
	}
	return out, nil
}

// reportStatus turns a progress report's outcome into its answer.
func reportStatus(p domain.Post, err error) (string, error) {
	if apperror.Is(err, apperror.NotFound) {
		// Acknowledged, not an error, which the workers' sidecars would
		// retry and count against this service.
		return postclient.StatusDeleted, nil
	}
	if err != nil {
		return "", err
	}
	return string(p.Status), nil
}

// MarkThumbnailReady implements postv1.PostServiceServer.
func (g *GRPC) MarkThumbnailReady(ctx context.Context, req *postv1.MarkThumbnailReadyRequest) (*postv1.MarkThumbnailReadyResponse, error) {
	st, err := reportStatus(g.svc.MarkThumbnailReady(ctx, req.GetPostId(), req.GetVersion(), int(req.GetWidth()), int(req.GetHeight()),
		req.GetRenditionBytes()))
	if err != nil {
		return nil, err
	}
	return &postv1.MarkThumbnailReadyResponse{Status: st}, nil
}

// MarkIndexed implements postv1.PostServiceServer.
func (g *GRPC) MarkIndexed(ctx context.Context, req *postv1.MarkIndexedRequest) (*postv1.MarkIndexedResponse, error) {
	st, err := reportStatus(g.svc.MarkIndexed(ctx, req.GetPostId(), req.GetVersion()))
	if err != nil {
		return nil, err
	}
	return &postv1.MarkIndexedResponse{Status: st}, nil
}

// MarkFailed implements postv1.PostServiceServer.
func (g *GRPC) MarkFailed(ctx context.Context, req *postv1.MarkFailedRequest) (*postv1.MarkFailedResponse, error) {
	st, err := reportStatus(g.svc.MarkFailed(ctx, req.GetPostId(), req.GetVersion(), req.GetReason()))
	if err != nil {
		return nil, err
	}
	return &postv1.MarkFailedResponse{Status: st}, nil
}
