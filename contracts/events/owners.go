package events

import "pixshare/platform/pubsub"

// App ids of the publishers. Every event type has exactly one owner, the
// app whose state it reports; consumers obey an event only when its
// CloudEvent source (set by the publishing sidecar to its app id) is the
// owner of its type, and dead-letter it otherwise (platform/pubsub). The
// components' publishingScopes grant each owner the topics its types travel
// on and nothing else (e2e/deploy checks both agree).
const (
	AppUser        = "user"
	AppPost        = "post"
	AppComment     = "comment"
	AppThumbnailer = "thumbnailer"
	AppIndexer     = "indexer"
	AppMailer      = "mailer"
)

// Owners maps every event type to the one app allowed to publish it.
var Owners = map[string]string{
	TypeUserDeleted:        AppUser,
	TypeAvatarRequested:    AppUser,
	TypeSendEmail:          AppUser,
	TypeThumbnailRequested: AppPost,
	TypeIndexUpsert:        AppPost,
	TypeIndexRemove:        AppPost,
	TypePostDeleted:        AppPost,
	TypeCommentCreated:     AppComment,
	TypeCommentDeleted:     AppComment,
}

// TopicOf maps every event type to the one topic it travels on.
var TopicOf = map[string]string{
	TypeUserDeleted:        TopicDomainEvents,
	TypeAvatarRequested:    TopicThumbnails,
	TypeSendEmail:          TopicMail,
	TypeThumbnailRequested: TopicThumbnails,
	TypeIndexUpsert:        TopicSearchIndex,
	TypeIndexRemove:        TopicSearchIndex,
	TypePostDeleted:        TopicDomainEvents,
	TypeCommentCreated:     TopicDomainEvents,
	TypeCommentDeleted:     TopicDomainEvents,
}

// Subscriptions maps every consuming app to its one topic.
var Subscriptions = map[string]string{
	AppPost:        TopicDomainEvents,
	AppComment:     TopicDomainEvents,
	AppThumbnailer: TopicThumbnails,
	AppIndexer:     TopicSearchIndex,
	AppMailer:      TopicMail,
}

// DeadLetterPublishers are the consumers: each publishes the events it
// gives up on to the dead-letters topic itself.
var DeadLetterPublishers = []string{AppPost, AppComment, AppThumbnailer, AppIndexer, AppMailer}

// Publishes lists the topics app may publish to: those of the types it
// owns, plus dead-letters for a consumer. This is what publishingScopes
// must grant, no more.
func Publishes(app string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, t := range Topics {
		for typ, owner := range Owners {
			if owner == app && TopicOf[typ] == t {
				add(t)
			}
		}
		if t == TopicDeadLetters {
			for _, c := range DeadLetterPublishers {
				if c == app {
					add(t)
				}
			}
		}
	}
	return out
}

func init() {
	for typ, owner := range Owners {
		pubsub.DeclareOwners(typ, owner)
	}
	pubsub.DeclareOwners(pubsub.TypeDeadLetter, DeadLetterPublishers...)
}
