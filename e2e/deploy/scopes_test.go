package deploy

import (
	"slices"
	"strings"
	"testing"

	componentsv1alpha1 "github.com/dapr/dapr/pkg/apis/components/v1alpha1"
	"github.com/dapr/dapr/pkg/scopes"

	"pixshare/contracts/events"
)

// allowed is daprd 1.14's decision (pkg/runtime/pubsub/adapter.go,
// IsOperationAllowed, repeated here: importing that package would pull the
// whole components-contrib tree into this module): a topic outside
// allowedTopics is refused; a protected topic, or any topic once the app has
// a scope list (even "app=", which yields [""]), needs the app's list to
// name it; otherwise it is allowed.
func allowed(topic string, allowedTopics, protected, scoped []string) bool {
	if len(allowedTopics) > 0 && !slices.Contains(allowedTopics, topic) {
		return false
	}
	if !slices.Contains(protected, topic) && len(scoped) == 0 {
		return true
	}
	return slices.Contains(scoped, topic)
}

// grants evaluates a pub/sub component's scopes for one app id as daprd
// 1.14 does (pkg/scopes parses the lists): the topics it may publish to and
// subscribe to.
func grants(c *componentsv1alpha1.Component, appID string) (publish, subscribe []string) {
	md := map[string]string{}
	for _, m := range c.Spec.Metadata {
		md[m.Name] = m.Value.String()
	}
	subs := scopes.GetScopedTopics(scopes.SubscriptionScopes, appID, md)
	pubs := scopes.GetScopedTopics(scopes.PublishingScopes, appID, md)
	allowedTopics, protected := scopes.GetAllowedTopics(md), scopes.GetProtectedTopics(md)
	// Topics no app should use are probed too: a scope list that allowed
	// them would be as wrong as one that allowed another app's topic.
	probe := append(slices.Clone(events.Topics), "some-other-topic")
	for _, topic := range probe {
		if allowed(topic, allowedTopics, protected, pubs) {
			publish = append(publish, topic)
		}
		if allowed(topic, allowedTopics, protected, subs) {
			subscribe = append(subscribe, topic)
		}
	}
	return publish, subscribe
}

// TestPubsubScopes: in every profile, each app may publish exactly the
// topics of the event types it owns (plus dead-letters for a consumer) and
// subscribe exactly to its own topic; an app id the lists do not name may
// do neither. A profile without scopes, or one granting an app a topic it
// does not own, fails here.
func TestPubsubScopes(t *testing.T) {
	ids := []string{"an-unknown-app"}
	for _, a := range apps {
		ids = append(ids, a.id)
	}
	for name, p := range loadProfiles(t) {
		c := p.components["pubsub"]
		if c == nil {
			continue // reported by TestProfileComponents
		}
		for _, key := range []string{scopes.PublishingScopes, scopes.SubscriptionScopes, scopes.ProtectedTopics, scopes.AllowedTopics} {
			if v, ok := metadataValue(c, key); !ok || strings.TrimSpace(v) == "" {
				t.Errorf("components/%s: pubsub sets no %s", name, key)
			}
		}
		for _, id := range ids {
			pub, sub := grants(c, id)
			wantPub := events.Publishes(id)
			var wantSub []string
			if topic, ok := events.Subscriptions[id]; ok {
				wantSub = []string{topic}
			}
			if !slices.Equal(pub, wantPub) {
				t.Errorf("components/%s: %s may publish to %v, want exactly %v", name, id, pub, wantPub)
			}
			if !slices.Equal(sub, wantSub) {
				t.Errorf("components/%s: %s may subscribe to %v, want exactly %v", name, id, sub, wantSub)
			}
		}
	}
}

// TestScopesOwnTheirTypes: the thumbnailer, which parses hostile images,
// and every other app but an event type's owner can publish no topic that
// carries the type, except where a topic is shared by several owners
// (domain-events): there the consumers' source check decides.
func TestScopesOwnTheirTypes(t *testing.T) {
	for name, p := range loadProfiles(t) {
		c := p.components["pubsub"]
		if c == nil {
			continue
		}
		for typ, owner := range events.Owners {
			topic := events.TopicOf[typ]
			for _, a := range apps {
				pub, _ := grants(c, a.id)
				if a.id == owner || !slices.Contains(pub, topic) {
					continue
				}
				shared := false
				for other, o := range events.Owners {
					if o == a.id && events.TopicOf[other] == topic {
						shared = true
					}
				}
				if !shared {
					t.Errorf("components/%s: %s may publish %s (owner %s) on %s", name, a.id, typ, owner, topic)
				}
			}
		}
		pub, _ := grants(c, "thumbnailer")
		if !slices.Equal(pub, []string{events.TopicDeadLetters}) {
			t.Errorf("components/%s: the thumbnailer may publish to %v; it may publish dead letters only", name, pub)
		}
	}
}
