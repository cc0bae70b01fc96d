package events

import (
	"slices"
	"testing"

	"pixshare/platform/pubsub"
)

// TestEveryTypeHasOneOwnerAndTopic: every type of the vocabulary is in
// Owners and TopicOf, and declared to platform/pubsub, so a consumer can
// route it.
func TestEveryTypeHasOneOwnerAndTopic(t *testing.T) {
	types := []string{TypeUserDeleted, TypeAvatarRequested, TypeSendEmail, TypeThumbnailRequested, TypeIndexUpsert, TypeIndexRemove,
		TypePostDeleted, TypeCommentCreated, TypeCommentDeleted}
	if len(Owners) != len(types) || len(TopicOf) != len(types) {
		t.Fatalf("Owners has %d types and TopicOf %d, want %d", len(Owners), len(TopicOf), len(types))
	}
	for _, typ := range types {
		owner := Owners[typ]
		if got := pubsub.OwnersOf(typ); len(got) != 1 || got[0] != owner {
			t.Errorf("%s: declared owners %v, want [%s]", typ, got, owner)
		}
		if !slices.Contains(Topics, TopicOf[typ]) {
			t.Errorf("%s travels on %q, which is no topic", typ, TopicOf[typ])
		}
	}
	if got := pubsub.OwnersOf(pubsub.TypeDeadLetter); !slices.Equal(got, DeadLetterPublishers) {
		t.Errorf("dead letters owned by %v, want %v", got, DeadLetterPublishers)
	}
}

func TestPublishes(t *testing.T) {
	want := map[string][]string{
		AppUser:        {TopicThumbnails, TopicDomainEvents, TopicMail},
		AppPost:        {TopicThumbnails, TopicSearchIndex, TopicDomainEvents, TopicDeadLetters},
		AppComment:     {TopicDomainEvents, TopicDeadLetters},
		AppThumbnailer: {TopicDeadLetters},
		AppIndexer:     {TopicDeadLetters},
		AppMailer:      {TopicDeadLetters},
		"search":       nil,
		"gateway":      nil,
	}
	for app, topics := range want {
		if got := Publishes(app); !slices.Equal(got, topics) {
			t.Errorf("Publishes(%s) = %v, want %v", app, got, topics)
		}
	}
}
