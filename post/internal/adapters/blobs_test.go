package adapters

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"pixshare/contracts/media"
	"pixshare/platform/apperror"
	"pixshare/platform/database/dbtest"
	"pixshare/post/internal/domain"
)

// TestQuotaUnderConcurrency: parallel uploads by one author cannot
// together pass the quota.
func TestQuotaUnderConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		r := newRepo(t, db)
		author := uuid.NewString()
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := uuid.Must(uuid.NewV7()).String()
				p := domain.Post{ID: id, AuthorID: author, Status: domain.StatusProcessing, Version: 1,
					OriginalKey: media.OriginalKey(id), Format: "jpeg", Width: 10, Height: 10, Size: 100}
				err := r.Create(context.Background(), &p, 500)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case apperror.Is(err, apperror.QuotaExceeded):
					refused++
				default:
					t.Errorf("create: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 5 || refused != 7 {
			t.Fatalf("%d created, %d refused; want 5 and 7 (quota 500, 100 bytes each)", ok, refused)
		}
		if used, err := r.StoredBytes(context.Background(), author); err != nil || used != 500 {
			t.Fatalf("StoredBytes = %d, %v", used, err)
		}
	})
}

// TestBlobGarbage: an upload's original is garbage until its post is
// inserted; a deleted post's blobs are garbage from its deletion; a mark
// after the janitor read the list survives its collection.
func TestBlobGarbage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		r := newRepo(t, db)
		ctx := context.Background()
		future := time.Now().Add(time.Hour)

		abandoned := uuid.Must(uuid.NewV7()).String()
		if err := r.MarkBlobsGarbage(ctx, abandoned); err != nil {
			t.Fatal(err)
		}
		live := mkPost(t, r, "alice")
		committed := uuid.Must(uuid.NewV7()).String()
		if err := r.MarkBlobsGarbage(ctx, committed); err != nil {
			t.Fatal(err)
		}
		p := domain.Post{ID: committed, AuthorID: "alice", Status: domain.StatusProcessing, Version: 1,
			OriginalKey: media.OriginalKey(committed), Format: "jpeg", Width: 1, Height: 1}
		if err := r.Create(ctx, &p, 0); err != nil {
			t.Fatal(err)
		}
		gone := mkPost(t, r, "alice")
		if _, err := r.Delete(ctx, gone.ID, func(domain.Post) error { return nil }); err != nil {
			t.Fatal(err)
		}
		ids, err := r.GarbageBefore(ctx, future, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 2 || !contains(ids, abandoned) || !contains(ids, gone.ID) {
			t.Fatalf("garbage %v, want the abandoned upload %s and the deleted post %s", ids, abandoned, gone.ID)
		}
		if ids, _ := r.GarbageBefore(ctx, time.Now().Add(-time.Hour), 10); len(ids) != 0 {
			t.Fatalf("garbage from before it was marked: %v", ids)
		}

		owners, err := r.BlobOwners(ctx, []string{live.ID, gone.ID, abandoned, uuid.NewString()})
		if err != nil {
			t.Fatal(err)
		}
		if o := owners[live.ID]; !o.Exists || !o.DeletedAt.IsZero() || o.Collecting {
			t.Errorf("live post: %+v", o)
		}
		if o := owners[gone.ID]; !o.Exists || o.DeletedAt.IsZero() || !o.Collecting {
			t.Errorf("deleted post: %+v", o)
		}
		if o := owners[abandoned]; o.Exists || !o.Collecting {
			t.Errorf("abandoned upload: %+v", o)
		}
		if len(owners) != 3 {
			t.Errorf("owners of unknown ids: %v", owners)
		}

		// The janitor read the list with cutoff `before`; a late rendition
		// marks the deleted post again after that: its record stays.
		before := time.Now().Add(time.Second)
		time.Sleep(1100 * time.Millisecond)
		if err := r.MarkBlobsGarbage(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{abandoned, gone.ID} {
			if err := r.BlobsCollected(ctx, id, before); err != nil {
				t.Fatal(err)
			}
		}
		ids, _ = r.GarbageBefore(ctx, future, 10)
		if len(ids) != 1 || ids[0] != gone.ID {
			t.Fatalf("after collection: %v, want only the re-marked %s", ids, gone.ID)
		}
	})
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
