// Package events is the vocabulary of Pixshare's pub/sub: every topic, every
// CloudEvent type with its payload, and a Parse function per type that
// returns a poison error (platform/pubsub) for anything unusable, so the
// consumer dead-letters it instead of retrying forever.

package events

import "pixshare/platform/pubsub"

// Topics of the system. Each app subscribes to exactly one of them and
// routes by CloudEvent type (docs/architecture.md, "one topic per app").
const (
	TopicThumbnails   = "thumbnails"
	TopicSearchIndex  = "search-index"
	TopicDomainEvents = "domain-events"
	TopicMail         = "mail"
	TopicDeadLetters  = pubsub.TopicDeadLetters
)

// Topics lists every topic; brokers that need a stream created up front
// (JetStream) create it from this list.
var Topics = []string{TopicThumbnails, TopicSearchIndex, TopicDomainEvents, TopicMail, TopicDeadLetters}
