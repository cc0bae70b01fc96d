// Command mailer sends the mails other services ask for (the welcome mail of
// a new account): it consumes the mail topic and sends through the Dapr SMTP
// output binding, at most once per event.
package main

import (
	"pixshare/platform/app"
	"pixshare/workers/internal/mailer/service"
)

func main() {
	app.Run(service.AppID, service.Module)
}
