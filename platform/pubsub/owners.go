package pubsub

import (
	"fmt"
	"slices"
	"sync"
)

// owners holds, per CloudEvent type, the app ids allowed to publish it. The
// vocabulary (contracts/events) declares them when it is loaded, so every
// consumer, which must import it to parse its events, has them.
var owners sync.Map // type -> []string

// DeclareOwners records that events of type typ may come only from apps.
// A subscriber dead-letters an event of typ whose CloudEvent source is
// another app, and refuses at start-up to route a type nobody owns.
func DeclareOwners(typ string, apps ...string) {
	if typ == "" || len(apps) == 0 {
		panic("pubsub: DeclareOwners needs a type and at least one app")
	}
	owners.Store(typ, slices.Clone(apps))
}

// OwnersOf returns the apps allowed to publish typ (nil when undeclared).
func OwnersOf(typ string) []string {
	v, ok := owners.Load(typ)
	if !ok {
		return nil
	}
	return slices.Clone(v.([]string))
}

// checkSource reports why an event of typ from source must not be obeyed,
// or nil. Dapr sets the CloudEvent source to the publishing app's id.
func checkSource(typ, source string) error {
	allowed := OwnersOf(typ)
	if len(allowed) == 0 {
		return fmt.Errorf("event type %q has no declared owner", typ)
	}
	if !slices.Contains(allowed, source) {
		return fmt.Errorf("event type %q must come from %v, came from source %q", typ, allowed, source)
	}
	return nil
}
