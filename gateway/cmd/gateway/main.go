// Command gateway runs the gateway: the single origin of the Pixshare REST
// API, routing each path to the service that owns it, and serving the
// merged API document, its explorer and the web client.
package main

import (
	"pixshare/gateway/internal/service"
	"pixshare/platform/app"
)

func main() {
	app.Run(service.AppID, service.Module)
}
