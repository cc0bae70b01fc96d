package adapters

import (
	"context"
	"fmt"

	dapr "github.com/dapr/go-sdk/client"

	"pixshare/workers/internal/mailer/app"
)

// Bindings invokes Dapr output bindings; the go-sdk client is one.
type Bindings interface {
	InvokeOutputBinding(ctx context.Context, in *dapr.InvokeBindingRequest) error
}

// SMTP sends through a Dapr bindings.smtp component. The component holds
// the server, its credentials and the sender address (emailFrom); each
// call names the recipient and the subject.
type SMTP struct {
	bindings Bindings
	name     string
}

// NewSMTP returns a Sender on the binding component named name.
func NewSMTP(bindings Bindings, name string) *SMTP { return &SMTP{bindings: bindings, name: name} }

var _ app.Sender = (*SMTP)(nil)

// Send implements app.Sender.
func (s *SMTP) Send(ctx context.Context, m app.Mail) error {
	err := s.bindings.InvokeOutputBinding(ctx, &dapr.InvokeBindingRequest{
		Name:      s.name,
		Operation: "create",
		Data:      []byte(m.HTML),
		Metadata:  map[string]string{"emailTo": m.To, "subject": m.Subject},
	})
	if err != nil {
		return fmt.Errorf("smtp binding %s: %w", s.name, err)
	}
	return nil
}
