// Command daprd is the Dapr 1.14.0 sidecar runtime, built from the pinned
// github.com/dapr/dapr module so that Pixshare needs nothing but Go.
//
// The stable component set is compiled in by the `stablecomponents` build tag.
// Three components Pixshare relies on are not in that set, so they are
// registered here: the NATS JetStream pub/sub (the embedded broker of
// `make run`), SQLite name resolution (sidecars find each other on
// loopback without mDNS multicast) and the SMTP output binding (the mailer
// sends the welcome mail through it).
package main

import (
	"github.com/dapr/components-contrib/bindings/smtp"
	"github.com/dapr/components-contrib/nameresolution/sqlite"
	"github.com/dapr/components-contrib/pubsub/jetstream"
	"github.com/dapr/dapr/cmd/daprd/app"
	bindingsLoader "github.com/dapr/dapr/pkg/components/bindings"
	nrLoader "github.com/dapr/dapr/pkg/components/nameresolution"
	pubsubLoader "github.com/dapr/dapr/pkg/components/pubsub"
)

func main() {
	nrLoader.DefaultRegistry.RegisterComponent(sqlite.NewResolver, "sqlite")
	pubsubLoader.DefaultRegistry.RegisterComponent(jetstream.NewJetStream, "jetstream")
	bindingsLoader.DefaultRegistry.RegisterOutputBinding(smtp.NewSMTP, "smtp")
	app.Run()
}
