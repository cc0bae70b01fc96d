package httpserver

import "net/http"

// HandlerFunc is a REST handler that returns its error instead of writing
// it: the one place that turns errors into problem documents is Handle.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts h to http.Handler: an error h returns is written as a
// problem document (and logged by the request's logger when it has no
// kind). h must not return an error after it started writing a response.
func Handle(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			WriteError(w, r, nil, err)
		}
	})
}
