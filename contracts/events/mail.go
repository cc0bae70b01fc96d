package events

import (
	"errors"
	"strings"

	"pixshare/platform/pubsub"
)

// TypeSendEmail asks the mailer (on the mail topic) to send one mail; the
// user service publishes it when an account is registered (the welcome
// mail). The CloudEvent id is the outbox row's id: the mailer sends at most
// one mail per id, however often the event is delivered.
const TypeSendEmail = "mail.send_email"

// Mail templates the mailer knows. A template names the mail's subject and
// body, so a publisher cannot make the mailer send arbitrary text.
const (
	MailWelcome = "welcome"
)

// maxAddress bounds an address (RFC 5321: 254 characters in practice).
const maxAddress = 254

// SendEmail is the payload of TypeSendEmail.
type SendEmail struct {
	Template string `json:"template"`
	// To is the recipient's address, as the user service validated it.
	To       string `json:"to"`
	UserID   string `json:"user_id"`
	Username string `json:"username"`
}

// ParseSendEmail decodes a mail request; anything unusable (an unknown
// template, a missing or malformed address) is poison, for the consumer to
// dead-letter.
func ParseSendEmail(data []byte) (SendEmail, error) {
	var e SendEmail
	if err := pubsub.Decode(data, &e); err != nil {
		return e, err
	}
	if e.Template != MailWelcome {
		return e, pubsub.Poison(errors.New("mail request has an unknown template"))
	}
	if e.UserID == "" || e.Username == "" || strings.ContainsAny(e.Username, "\r\n") {
		// The username goes into the subject: no line breaks.
		return e, pubsub.Poison(errors.New("mail request lacks user_id or a usable username"))
	}
	if !plausibleAddress(e.To) {
		return e, pubsub.Poison(errors.New("mail request lacks a usable recipient address"))
	}
	return e, nil
}

// plausibleAddress accepts local@domain without spaces, angle brackets,
// commas or line breaks: nothing that could add a recipient or a header
// when the address reaches SMTP.
func plausibleAddress(s string) bool {
	if s == "" || len(s) > maxAddress || strings.ContainsAny(s, " \t\r\n<>,;:\"()[]\\") {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.Contains(domain, "@")
}
