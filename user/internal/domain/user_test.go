package domain

import (
	"strings"
	"testing"

	"pixshare/platform/apperror"
)

func TestParseUsername(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"alice", "alice", true},
		{"  Alice.B_2 ", "alice.b_2", true},
		{"abc", "abc", true},
		{strings.Repeat("a", 30), strings.Repeat("a", 30), true},
		{"ab", "", false},
		{strings.Repeat("a", 31), "", false},
		{"al ice", "", false},
		{"al-ice", "", false},
		{"ålice", "", false},
		{"alice'; DROP TABLE users;--", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := ParseUsername(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseUsername(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !apperror.Is(err, apperror.Unprocessable) {
			t.Errorf("ParseUsername(%q): want Unprocessable, got %v", tt.in, err)
		}
	}
}

func TestParseEmail(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"alice@example.com":       "alice@example.com",
		"Alice.B+tag@Example.COM": "alice.b+tag@example.com",
		" bob@mail.example.org ":  "bob@mail.example.org",
	}
	for in, want := range good {
		if got, err := ParseEmail(in); err != nil || got != want {
			t.Errorf("ParseEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{"", "alice", "alice@", "@example.com", "alice@example", "alice@.example.com",
		"alice@example..com", "Alice <alice@example.com>", "a b@example.com", "alice@example.com.",
		strings.Repeat("a", 250) + "@example.com"}
	for _, in := range bad {
		if _, err := ParseEmail(in); err == nil {
			t.Errorf("ParseEmail(%q) accepted", in)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	for pw, ok := range map[string]bool{
		"123456789":              false,
		"1234567890":             true,
		"ééééééééé":              false, // 9 characters, 18 bytes
		"éééééééééé":             true,
		strings.Repeat("x", 128): true,
		strings.Repeat("x", 129): false,
	} {
		if err := CheckPassword(pw); (err == nil) != ok {
			t.Errorf("CheckPassword(%d runes) = %v, want ok=%v", len([]rune(pw)), err, ok)
		}
	}
}

func TestNewRegistrationReportsEveryField(t *testing.T) {
	t.Parallel()
	_, err := NewRegistration("x", "nope", "short")
	e, ok := apperror.As(err)
	if !ok || e.Kind != apperror.Unprocessable {
		t.Fatalf("want Unprocessable, got %v", err)
	}
	fields := map[string]bool{}
	for _, f := range e.Fields {
		fields[f.Field] = true
	}
	for _, f := range []string{"username", "email", "password"} {
		if !fields[f] {
			t.Errorf("missing field error for %s: %+v", f, e.Fields)
		}
	}
}

func TestProfilePatch(t *testing.T) {
	t.Parallel()
	empty := ProfilePatch{}
	if err := empty.Validate(); !apperror.Is(err, apperror.Invalid) {
		t.Errorf("empty patch: want Invalid, got %v", err)
	}
	long := strings.Repeat("b", BioMax+1)
	p := ProfilePatch{Bio: &long}
	if err := p.Validate(); !apperror.Is(err, apperror.Unprocessable) {
		t.Errorf("long bio: want Unprocessable, got %v", err)
	}
	name := "  Alice  "
	p = ProfilePatch{DisplayName: &name}
	if err := p.Validate(); err != nil || *p.DisplayName != "Alice" {
		t.Errorf("display name not trimmed: %q, %v", *p.DisplayName, err)
	}
	nul := "fin\x00e"
	p = ProfilePatch{Bio: &nul}
	if err := p.Validate(); err == nil {
		t.Error("a NUL accepted in the bio")
	}
	lines := "line one\nline two\ttabbed"
	p = ProfilePatch{Bio: &lines}
	if err := p.Validate(); err != nil {
		t.Errorf("line breaks refused in the bio: %v", err)
	}
	ctrl := "a\x00b"
	p = ProfilePatch{DisplayName: &ctrl}
	if err := p.Validate(); err == nil {
		t.Error("control characters accepted in display name")
	}
}

func TestGraphRules(t *testing.T) {
	t.Parallel()
	if err := CheckFollow("a", "a"); !apperror.Is(err, apperror.Unprocessable) {
		t.Errorf("self follow: %v", err)
	}
	if err := CheckBlock("a", "a"); !apperror.Is(err, apperror.Unprocessable) {
		t.Errorf("self block: %v", err)
	}
	if CheckFollow("a", "b") != nil || CheckBlock("a", "b") != nil {
		t.Error("distinct users refused")
	}
}
