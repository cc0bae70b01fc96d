// Command thumbnailer makes every size of uploaded images: it consumes the
// thumbnails topic and reports to the post service.
package main

import (
	"pixshare/platform/app"
	"pixshare/workers/internal/thumbnailer"
)

func main() {
	app.Run(thumbnailer.AppID, thumbnailer.Module)
}
