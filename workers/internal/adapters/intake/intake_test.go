package intake_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"pixshare/platform/database/dbtest"
	"pixshare/platform/pubsub"
	"pixshare/workers/internal/adapters/intake"
)

// TestIntake on SQLite and, when configured, PostgreSQL: a record keeps
// the whole event, a second Add of the same id changes nothing, All lists
// oldest first and Remove forgets one.
func TestIntake(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		if err := intake.Migrate(db); err != nil {
			t.Fatal(err)
		}
		s := intake.New(db)
		ctx := context.Background()
		first := pubsub.Event{ID: "e1", Type: "thumbnail.requested", Topic: "thumbnails", Source: "post", Data: []byte(`{"post_id":"p1"}`)}
		for _, ev := range []pubsub.Event{first, {ID: "e2", Type: "avatar.requested", Topic: "thumbnails", Source: "user"}, first} {
			if err := s.Add(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all[0].ID != "e1" || all[1].ID != "e2" {
			t.Fatalf("All = %+v, want e1 then e2", all)
		}
		if got := all[0]; got.Type != first.Type || got.Topic != first.Topic || got.Source != first.Source || string(got.Data) != string(first.Data) {
			t.Fatalf("record = %+v, want %+v", got, first)
		}
		if err := s.Remove(ctx, "e1"); err != nil {
			t.Fatal(err)
		}
		if all, _ = s.All(ctx); len(all) != 1 || all[0].ID != "e2" {
			t.Fatalf("after Remove: %+v", all)
		}
	})
}
