// Command user runs the user service: accounts, login, profiles, follows
// and blocks over REST, and token checks and graph queries over gRPC.
package main

import (
	"pixshare/platform/app"
	"pixshare/user/internal/service"
)

func main() {
	app.Run(service.AppID, service.Module)
}
