// Command search runs the search service: tag and caption search and tag
// autocomplete over the read model the indexer keeps.
package main

import (
	"pixshare/platform/app"
	"pixshare/search/internal/service"
)

func main() {
	app.Run(service.AppID, service.Module)
}
