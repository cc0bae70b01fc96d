// Command thumbnailer makes every size of uploaded images: it consumes the
// thumbnails topic and reports to the post service.
package main

import (
	"pixshare/platform/app"
	"pixshare/workers/internal/service"
)

func main() {
	app.Run(service.AppID, service.Module)
}
