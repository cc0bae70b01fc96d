package page

import (
	"net/http/httptest"
	"testing"

	"pixshare/platform/apperror"
)

func TestParseLimit(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		want int
		ok   bool
	}{
		"": {DefaultLimit, true}, "?limit=5": {5, true}, "?limit=1000": {MaxLimit, true},
		"?limit=0": {0, false}, "?limit=-3": {0, false}, "?limit=abc": {0, false}, "?limit=1e3": {0, false},
	}
	for q, tt := range tests {
		got, err := ParseLimit(httptest.NewRequest("GET", "/x"+q, nil))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%q: got %d, %v; want %d ok=%v", q, got, err, tt.want, tt.ok)
		}
		if err != nil && !apperror.Is(err, apperror.Invalid) {
			t.Errorf("%q: want an Invalid error, got %v", q, err)
		}
	}
}

func TestParseOffset(t *testing.T) {
	t.Parallel()
	for q, ok := range map[string]bool{"": true, "?offset=0": true, "?offset=40": true, "?offset=-1": false, "?offset=x": false} {
		if _, err := ParseOffset(httptest.NewRequest("GET", "/x"+q, nil)); (err == nil) != ok {
			t.Errorf("%q: err %v, want ok=%v", q, err, ok)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	c := EncodeCursor("2026-01-01T00:00:00Z", "0190c2a4-aaaa")
	parts, err := DecodeCursor(c, 2)
	if err != nil || len(parts) != 2 || parts[1] != "0190c2a4-aaaa" {
		t.Fatalf("round trip: %v %v", parts, err)
	}
	if parts, err := DecodeCursor("", 2); parts != nil || err != nil {
		t.Fatalf("empty cursor must mean first page")
	}
	for _, bad := range []string{"%%%", "bm9wZQ", EncodeCursor("only-one"), c + "x", EncodeCursor("", "")} {
		if _, err := DecodeCursor(bad, 2); !apperror.Is(err, apperror.Invalid) {
			t.Errorf("DecodeCursor(%q) = %v, want Invalid", bad, err)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(EncodeCursor("a", "b"))
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		parts, err := DecodeCursor(s, 2)
		if err != nil {
			if !apperror.Is(err, apperror.Invalid) {
				t.Fatalf("non-Invalid error %v", err)
			}
			return
		}
		if s != "" && (len(parts) != 2 || EncodeCursor(parts...) != s) {
			t.Fatalf("accepted cursor %q does not round-trip: %q", s, parts)
		}
	})
}

func TestParseAndMake(t *testing.T) {
	t.Parallel()
	limit, after, err := Parse(httptest.NewRequest("GET", "/x?limit=2&cursor="+EncodeCursor("k7"), nil))
	if err != nil || limit != 2 || after != "k7" {
		t.Fatalf("Parse = %d %q %v", limit, after, err)
	}
	if _, _, err := Parse(httptest.NewRequest("GET", "/x?cursor=garbage", nil)); err == nil {
		t.Fatal("a bad cursor was accepted")
	}
	key := func(s string) string { return s }
	upper := func(s string) string { return s + "!" }
	full := Make([]string{"a", "b", "c"}, 2, key, upper)
	if len(full.Items) != 2 || full.Items[1] != "b!" || full.NextCursor != EncodeCursor("b") {
		t.Fatalf("a page with more after it: %+v", full)
	}
	last := Make([]string{"a"}, 2, key, upper)
	if len(last.Items) != 1 || last.NextCursor != "" {
		t.Fatalf("the last page: %+v", last)
	}
	if empty := Make([]string{}, 2, key, upper); empty.Items == nil {
		t.Fatal("an empty page must render [] not null")
	}
}
