package tags

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []string
		want []string
		ok   bool
	}{
		{[]string{"Sunset, #beach,sunset"}, []string{"sunset", "beach"}, true},
		{[]string{"a,,b,", " c "}, []string{"a", "b", "c"}, true},
		{nil, []string{}, true},
		{[]string{"café"}, nil, false},
		{[]string{"#"}, nil, false},
		{[]string{"x y"}, nil, false},
		{[]string{string(make([]byte, MaxLen+1))}, nil, false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err == nil) != tt.ok || (tt.ok && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("Parse(%q) = %q, %v; want %q (ok=%v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzParse: whatever a client sends, every tag Parse accepts is already
// canonical, so the post service (which stores) and the search service
// (which matches) agree on it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"Sunset, #beach", "a,,b", "#", "ÄÖ", "x_1,X_1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse([]string{s})
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, tag := range got {
			again, err := Normalize(tag)
			if err != nil || again != tag {
				t.Fatalf("accepted %q, which normalises to %q (%v)", tag, again, err)
			}
			if seen[tag] {
				t.Fatalf("duplicate %q in %q", tag, got)
			}
			seen[tag] = true
		}
	})
}
