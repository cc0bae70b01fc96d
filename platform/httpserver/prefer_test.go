package httpserver

import (
	"net/http"
	"testing"
	"time"
)

func TestPreferWait(t *testing.T) {
	cases := []struct {
		name    string
		headers []string
		want    time.Duration
		ok      bool
	}{
		{"none", nil, 0, false},
		{"alone", []string{"wait=10"}, 10 * time.Second, true},
		{"zero", []string{"wait=0"}, 0, true},
		{"among others", []string{"respond-async, wait=5"}, 5 * time.Second, true},
		{"any case and spaces", []string{"handling=lenient,  WAIT = 7 ;foo=bar"}, 7 * time.Second, true},
		{"quoted", []string{`wait="3"`}, 3 * time.Second, true},
		{"in a later header", []string{"return=minimal", "wait=2"}, 2 * time.Second, true},
		{"the first counts", []string{"wait=4, wait=9"}, 4 * time.Second, true},
		{"a comma inside a quoted value", []string{`foo="a, wait=8", wait=1`}, time.Second, true},
		{"not a number", []string{"wait=soon"}, 0, false},
		{"negative", []string{"wait=-1"}, 0, false},
		{"fraction", []string{"wait=1.5"}, 0, false},
		{"empty", []string{"wait="}, 0, false},
		{"no value", []string{"wait"}, 0, false},
		{"another preference only", []string{"waiting=3"}, 0, false},
		{"huge", []string{"wait=99999999999999999999999"}, maxWaitSeconds * time.Second, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range c.headers {
				h.Add("Prefer", v)
			}
			got, ok := PreferWait(h)
			if got != c.want || ok != c.ok {
				t.Fatalf("PreferWait(%q) = %v, %v; want %v, %v", c.headers, got, ok, c.want, c.ok)
			}
		})
	}
}
