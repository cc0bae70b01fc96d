package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"go.uber.org/zap"
)

type published struct {
	mu   sync.Mutex
	msgs []Message
	err  error
}

func (p *published) Publish(_ context.Context, topic string, msg Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if topic != TopicDeadLetters {
		return errors.New("dead letters only")
	}
	p.msgs = append(p.msgs, msg)
	return nil
}

// TestDeliverChecksSource: an event is handled only when its source owns
// its type; any other source, or none, dead-letters it unhandled.
func TestDeliverChecksSource(t *testing.T) {
	DeclareOwners("unit.deleted", "owner")
	dead := &published{}
	s := NewSubscriber(nil, "pubsub", "consumer", dead, zap.NewNop())
	var handled []string
	routes := map[string]Handler{"unit.deleted": func(_ context.Context, ev Event) error {
		handled = append(handled, ev.ID)
		return nil
	}}
	for _, tc := range []struct {
		id, source string
		obeyed     bool
	}{
		{"1", "owner", true},
		{"2", "thumbnailer", false},
		{"3", "", false},
		{"4", "Owner", false},
	} {
		if retry := s.deliver(routes, Event{ID: tc.id, Type: "unit.deleted", Topic: "t", Source: tc.source, Data: []byte(`{"x":1}`)}); retry {
			t.Errorf("event from %q: asked for a retry", tc.source)
		}
	}
	if len(handled) != 1 || handled[0] != "1" {
		t.Fatalf("handled %v, want only the owner's event", handled)
	}
	if len(dead.msgs) != 3 {
		t.Fatalf("%d dead letters, want 3", len(dead.msgs))
	}
	var dl DeadLetter
	if err := json.Unmarshal(dead.msgs[0].Data, &dl); err != nil {
		t.Fatal(err)
	}
	if dl.ID != "2" || dl.Source != "thumbnailer" || dl.App != "consumer" || string(dl.Data) != `{"x":1}` || dead.msgs[0].ID != "consumer:2" {
		t.Fatalf("dead letter %+v (%s)", dl, dead.msgs[0].ID)
	}

	// A dead letter that cannot be published is retried, never handled.
	dead.err = errors.New("broker down")
	if retry := s.deliver(routes, Event{ID: "5", Type: "unit.deleted", Source: "intruder"}); !retry {
		t.Fatal("an unpublishable dead letter must be retried")
	}
	// Types the app does not route are acknowledged whatever their source.
	if retry := s.deliver(routes, Event{ID: "6", Type: "unit.other", Source: "anyone"}); retry {
		t.Fatal("an unrouted type must be acknowledged")
	}
	if len(handled) != 1 {
		t.Fatalf("handled %v", handled)
	}
}

func TestDeclareOwnersNeedsApps(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("DeclareOwners without an app must panic")
		}
	}()
	DeclareOwners("unit.nobody")
}
