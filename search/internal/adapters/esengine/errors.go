package esengine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"pixshare/platform/apperror"
)

// ResponseError is an error answer from Elasticsearch: its HTTP status and
// the type and reason of its "error" object.
type ResponseError struct {
	Status int
	Type   string
	Reason string
}

func (e *ResponseError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("elasticsearch answered %d", e.Status)
	}
	return fmt.Sprintf("elasticsearch answered %d %s: %s", e.Status, e.Type, e.Reason)
}

// errorBody is Elasticsearch's error document. "error" is an object for
// most APIs and a plain string for a few (HEAD-like lookups such as a
// missing alias).
type errorBody struct {
	Error  json.RawMessage `json:"error"`
	Status int             `json:"status"`
}

func parseError(status int, body []byte) *ResponseError {
	re := &ResponseError{Status: status}
	var eb errorBody
	if json.Unmarshal(body, &eb) != nil || len(eb.Error) == 0 {
		return re
	}
	var obj struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	}
	if json.Unmarshal(eb.Error, &obj) == nil {
		re.Type, re.Reason = obj.Type, obj.Reason
		return re
	}
	var msg string
	if json.Unmarshal(eb.Error, &msg) == nil {
		re.Reason = msg
	}
	return re
}

// errorType is the "error.type" of an error answer, or "".
func errorType(body []byte) string { return parseError(0, body).Type }

// unavailableStatus lists the answers that mean "the cluster cannot serve
// this now; retry later".
func unavailableStatus(status int) bool {
	return status == 429 || status == 502 || status == 503 || status == 504
}

func unavailable(cause error) error {
	return apperror.Wrap(apperror.Unavailable, cause, "search index unavailable")
}

// failure turns an unexpected answer into an error with the operation's
// context; overload and outage answers are apperror Unavailable (503).
func failure(op string, status int, body []byte) error {
	err := fmt.Errorf("%s: %w", op, parseError(status, body))
	if unavailableStatus(status) {
		return unavailable(err)
	}
	return err
}

// transportError classifies a request that got no answer: the cluster is
// unreachable (Unavailable), unless the caller gave up (context canceled).
func transportError(ctx context.Context, op string, err error) error {
	err = fmt.Errorf("%s: %w", op, err)
	if errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled) {
		return err
	}
	return unavailable(err)
}
