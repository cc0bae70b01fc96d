package reqinfo

import "testing"

func TestParseTraceParent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true},
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", false},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false},
		{"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", false},
		{"00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
		{"garbage", false},
		{"", false},
	}
	for _, tt := range tests {
		id, ok := ParseTraceParent(tt.in)
		if ok != tt.ok {
			t.Errorf("ParseTraceParent(%q) ok = %v, want %v", tt.in, ok, tt.ok)
		}
		if ok && id != tt.in[3:35] {
			t.Errorf("trace id = %q", id)
		}
	}
	tp, id := NewTraceParent()
	if got, ok := ParseTraceParent(tp); !ok || got != id {
		t.Fatalf("NewTraceParent produced an invalid header %q", tp)
	}
}

func TestValidRequestID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"abc-123_x.y": true, "": false, "a b": false, "<script>": false, string(make([]byte, 65)): false,
	} {
		if ValidRequestID(id) != want {
			t.Errorf("ValidRequestID(%q) != %v", id, want)
		}
	}
}
