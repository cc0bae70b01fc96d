// Package postclient is the typed client of the post service (post.v1
// through the local sidecar) for the comment service and the workers. It
// holds the one rule every caller needs: a lookup that finds nothing
// (found=false) is an apperror NotFound, like a progress report about a
// post that is gone.
package postclient

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	"pixshare/platform/apperror"
	"pixshare/platform/sidecar"
	postv1 "pixshare/proto/post/v1"
)

// AppID is the Dapr app id of the post service.
const AppID = "post"

// StatusDeleted is what a progress report about a deleted post answers.
const StatusDeleted = "deleted"

// Client calls post.v1.
type Client struct {
	rpc postv1.PostServiceClient
}

// New returns a client over rpc.
func New(rpc postv1.PostServiceClient) *Client { return &Client{rpc: rpc} }

// NewThroughSidecar returns a client calling the post service through the
// app's sidecar connection.
func NewThroughSidecar(conn *grpc.ClientConn) *Client {
	return New(postv1.NewPostServiceClient(sidecar.NewAppConn(conn, AppID)))
}

// GetPost returns the live post as viewer ("" for none) may see it, or a
// NotFound error when it is missing, deleted or hidden by a block.
func (c *Client) GetPost(ctx context.Context, id, viewer string) (*postv1.Post, error) {
	res, err := c.rpc.GetPost(ctx, &postv1.GetPostRequest{PostId: id, ViewerId: viewer})
	if err != nil {
		return nil, fmt.Errorf("get post %s: %w", id, err)
	}
	if !res.GetFound() {
		return nil, apperror.NotFoundf("post not found")
	}
	return res.GetPost(), nil
}

// ListPosts pages through every live post by id (re-index).
func (c *Client) ListPosts(ctx context.Context, pageSize int32, token string) ([]*postv1.Post, string, error) {
	res, err := c.rpc.ListPosts(ctx, &postv1.ListPostsRequest{PageSize: pageSize, PageToken: token})
	if err != nil {
		return nil, "", fmt.Errorf("list posts: %w", err)
	}
	return res.GetPosts(), res.GetNextPageToken(), nil
}

// report turns a progress report's answer into NotFound for a post that is
// gone.
func report(status string, err error) error {
	if err != nil {
		return err
	}
	if status == StatusDeleted {
		return apperror.NotFoundf("post deleted")
	}
	return nil
}

// MarkThumbnailReady reports that every size of a post's image exists,
// with the bytes stored of each (by size name).
func (c *Client) MarkThumbnailReady(ctx context.Context, id string, version int64, width, height int, renditionBytes map[string]int64) error {
	res, err := c.rpc.MarkThumbnailReady(ctx, &postv1.MarkThumbnailReadyRequest{
		PostId: id, Version: version, Width: int32(width), Height: int32(height), RenditionBytes: renditionBytes})
	return report(res.GetStatus(), err)
}

// MarkIndexed reports that the search index holds version of a post.
func (c *Client) MarkIndexed(ctx context.Context, id string, version int64) error {
	res, err := c.rpc.MarkIndexed(ctx, &postv1.MarkIndexedRequest{PostId: id, Version: version})
	return report(res.GetStatus(), err)
}

// MarkFailed reports that a post's image can never be processed.
func (c *Client) MarkFailed(ctx context.Context, id string, version int64, reason string) error {
	res, err := c.rpc.MarkFailed(ctx, &postv1.MarkFailedRequest{PostId: id, Version: version, Reason: reason})
	return report(res.GetStatus(), err)
}

// GetPosts returns, in the order of ids, the live posts among them that
// viewer ("" for none) may see; the others are left out.
func (c *Client) GetPosts(ctx context.Context, ids []string, viewer string) ([]*postv1.Post, error) {
	res, err := c.rpc.GetPosts(ctx, &postv1.GetPostsRequest{PostIds: ids, ViewerId: viewer})
	if err != nil {
		return nil, fmt.Errorf("get %d posts: %w", len(ids), err)
	}
	return res.GetPosts(), nil
}
