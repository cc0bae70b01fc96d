package domain

import (
	"strings"
	"testing"

	"pixshare/platform/apperror"
)

func TestCheckBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"  nice  ", "nice", true},
		{strings.Repeat("é", 2200), strings.Repeat("é", 2200), true},
		{strings.Repeat("é", 2201), "", false},
		{"   ", "", false},
		{"", "", false},
		{"bad \xff", "", false},
		{"nul\x00", "", false},
	}
	for _, tt := range tests {
		got, err := CheckBody(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("CheckBody(%.20q) = %.20q, %v", tt.in, got, err)
		}
		if err != nil && !apperror.Is(err, apperror.Unprocessable) {
			t.Errorf("want Unprocessable, got %v", err)
		}
	}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	c := Comment{AuthorID: "writer"}
	if CanEdit(c, "writer") != nil || CanEdit(c, "post-author") == nil || CanEdit(c, "other") == nil {
		t.Error("edit: only the comment's author")
	}
	if CanDelete(c, "writer", "post-author") != nil || CanDelete(c, "post-author", "post-author") != nil {
		t.Error("delete: the comment's author and the post's author may")
	}
	if !apperror.Is(CanDelete(c, "other", "post-author"), apperror.Forbidden) {
		t.Error("delete: others may not")
	}
}
