// Command post runs the post service: uploads, posts, images, feeds over
// REST, and post lookups and worker progress reports over gRPC.
package main

import (
	"pixshare/platform/app"
	"pixshare/post/internal/service"
)

func main() {
	app.Run(service.AppID, service.Module)
}
