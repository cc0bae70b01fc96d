// Command comment runs the comment service: comments on posts over REST,
// kept in step with post and user deletions from domain events.
package main

import (
	"pixshare/comment/internal/service"
	"pixshare/platform/app"
)

func main() {
	app.Run(service.AppID, service.Module)
}
