package adapters

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"pixshare/comment/internal/domain"
	"pixshare/platform/apperror"
	"pixshare/platform/database/dbtest"
	"pixshare/platform/outbox"
)

func TestRepository(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		if err := Migrate(db); err != nil {
			t.Fatal(err)
		}
		r := NewRepository(db)
		post, other := uuid.NewString(), uuid.NewString()
		writer, reader, postAuthor := uuid.NewString(), uuid.NewString(), uuid.NewString()
		mk := func(postID, author, body string) domain.Comment {
			c := domain.Comment{ID: uuid.Must(uuid.NewV7()).String(), PostID: postID, AuthorID: author, Body: body}
			if err := r.Create(ctx, &c); err != nil {
				t.Fatal(err)
			}
			return c
		}
		events := func(typ string) int64 {
			var n int64
			db.Model(&outbox.Message{}).Where("type = ?", typ).Count(&n)
			return n
		}
		c1 := mk(post, writer, "first")
		c2 := mk(post, reader, "second")
		c3 := mk(post, writer, "third")
		mk(other, writer, "elsewhere")
		if events("comment.created") != 4 {
			t.Fatal("each comment must enqueue comment.created")
		}

		// Oldest first, paged, excluding authors.
		page, err := r.List(ctx, post, "", nil, 2)
		if err != nil || len(page) != 2 || page[0].ID != c1.ID || page[1].ID != c2.ID {
			t.Fatalf("first page %v %v", page, err)
		}
		page, _ = r.List(ctx, post, page[1].ID, nil, 2)
		if len(page) != 1 || page[0].ID != c3.ID {
			t.Fatalf("second page %v", page)
		}
		page, _ = r.List(ctx, post, "", []string{writer}, 10)
		if len(page) != 1 || page[0].ID != c2.ID {
			t.Fatalf("excluding the writer: %v", page)
		}

		// Permissions are checked where the change is written.
		if _, err := r.UpdateBody(ctx, post, c1.ID, reader, "x"); !apperror.Is(err, apperror.Forbidden) {
			t.Fatalf("edit by another: %v", err)
		}
		if _, err := r.UpdateBody(ctx, other, c1.ID, writer, "x"); !errors.Is(err, domain.ErrNoComment) {
			t.Fatalf("edit through the wrong post: %v", err)
		}
		if got, err := r.UpdateBody(ctx, post, c1.ID, writer, "edited"); err != nil || got.Body != "edited" {
			t.Fatalf("edit by the author: %v %v", got, err)
		}
		if err := r.Delete(ctx, post, c2.ID, writer, postAuthor); !apperror.Is(err, apperror.Forbidden) {
			t.Fatalf("delete by another commenter: %v", err)
		}
		if err := r.Delete(ctx, post, c2.ID, postAuthor, postAuthor); err != nil {
			t.Fatalf("delete by the post's author: %v", err)
		}
		if _, err := r.ByID(ctx, post, c2.ID); !errors.Is(err, domain.ErrNoComment) {
			t.Fatal("a deleted comment is readable")
		}
		if events("comment.deleted") != 1 {
			t.Fatal("deletion must enqueue comment.deleted")
		}

		// Cascades are idempotent.
		n, err := r.DeleteByAuthor(ctx, writer)
		if err != nil || n != 3 {
			t.Fatalf("DeleteByAuthor = %d, %v", n, err)
		}
		if n, _ := r.DeleteByAuthor(ctx, writer); n != 0 {
			t.Fatal("a repeated user.deleted deleted again")
		}
		if events("comment.deleted") != 4 {
			t.Fatal("each cascaded deletion must enqueue comment.deleted")
		}
		mk(post, reader, "late")
		if n, err := r.DeleteByPost(ctx, post); err != nil || n != 1 {
			t.Fatalf("DeleteByPost = %d, %v", n, err)
		}
		if page, _ := r.List(ctx, post, "", nil, 10); len(page) != 0 {
			t.Fatalf("comments of a deleted post remain: %v", page)
		}
		late := domain.Comment{ID: uuid.Must(uuid.NewV7()).String(), PostID: post, AuthorID: reader, Body: "too late"}
		if err := r.Create(ctx, &late); !apperror.Is(err, apperror.NotFound) {
			t.Fatalf("a comment on a deleted post: %v", err)
		}
		if n, err := r.DeleteByPost(ctx, post); err != nil || n != 0 {
			t.Fatalf("a repeated post.deleted: %d, %v", n, err)
		}
	})
}
