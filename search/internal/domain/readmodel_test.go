package domain

import (
	"reflect"
	"strings"
	"testing"
)

func TestWords(t *testing.T) {
	t.Parallel()
	tests := map[string][]string{
		"Sunset at the beach, sunset!":  {"sunset", "at", "the", "beach"},
		"Café déjà-vu 2026":             {"café", "déjà", "vu", "2026"},
		"  ":                            nil,
		"#tags_are-not words":           {"tags", "are", "not", "words"},
		strings.Repeat("x", 51) + " ok": {"ok"},
	}
	for in, want := range tests {
		if got := Words(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Words(%q) = %q, want %q", in, got, want)
		}
	}
	many := strings.Repeat("w ", 10) + strings.Join(func() []string {
		var s []string
		for i := range 500 {
			s = append(s, "w"+strings.Repeat("a", i%40)+string(rune('a'+i%26)))
		}
		return s
	}(), " ")
	if n := len(Words(many)); n > MaxWordsPerDoc {
		t.Fatalf("%d words kept, want at most %d", n, MaxWordsPerDoc)
	}
}
