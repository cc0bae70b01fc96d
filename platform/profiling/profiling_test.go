package profiling

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/debug/pprof/goroutine?debug=1")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("goroutine profile: %v %v", res, err)
	}
	res.Body.Close()
}
