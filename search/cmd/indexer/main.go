// Command indexer keeps the search read model in step with posts: it
// consumes the search-index topic and reports to the post service.
//
//	indexer            run the app (beside its sidecar)
//	indexer reindex    rebuild the read model from the post service, through
//	                   the running indexer's sidecar, then exit
package main

import (
	"fmt"
	"os"

	"pixshare/platform/app"
	"pixshare/search/internal/service"
)

func main() {
	switch {
	case len(os.Args) == 1:
		app.Run(service.IndexerAppID, service.IndexerModule)
	case len(os.Args) == 2 && os.Args[1] == "reindex":
		app.Run(service.IndexerAppID, service.ReindexModule)
	default:
		fmt.Fprintln(os.Stderr, "usage: indexer [reindex]")
		os.Exit(2)
	}
}
