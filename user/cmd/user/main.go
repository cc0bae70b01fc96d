// Command user runs the user service: accounts, login, profiles, follows
// and blocks over REST, and token checks and graph queries over gRPC.
//
//	user                     run the app (beside its sidecar)
//	user suspend NAME        suspend an account: its tokens are refused on
//	                         the next request everywhere (through the
//	                         running user app's sidecar)
//	user unsuspend NAME      reinstate it
package main

import (
	"fmt"
	"os"

	"pixshare/platform/app"
	"pixshare/user/internal/service"
)

func main() {
	switch {
	case len(os.Args) == 1:
		app.Run(service.AppID, service.Module)
	case len(os.Args) == 3 && (os.Args[1] == "suspend" || os.Args[1] == "unsuspend"):
		app.Run(service.AppID, service.AdminModule(os.Args[1], os.Args[2]))
	default:
		fmt.Fprintln(os.Stderr, "usage: user [suspend|unsuspend USERNAME]")
		os.Exit(2)
	}
}
