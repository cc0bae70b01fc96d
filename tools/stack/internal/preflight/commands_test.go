package preflight

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pixshare/tools/stack/internal/runfile"
)

func TestCommandPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "bin", "user")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "data"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		command []string
		want    string // resolved path, or error text
		wantErr bool
	}{
		{[]string{"bin/user"}, exe, false},
		{[]string{exe, "--flag"}, exe, false},
		{nil, "", false},
		{[]string{"bin/post"}, "bin/post not found: run `make build`", true},
		{[]string{"bin/data"}, "bin/data is not an executable file", true},
		{[]string{"bin"}, "bin not found in PATH", true},
		{[]string{"sh", "-c", "true"}, "/sh", false},
	}
	for _, tt := range tests {
		got, err := CommandPath(runfile.App{AppID: "x", AppDirPath: dir, Command: tt.command})
		switch {
		case tt.wantErr && (err == nil || err.Error() != tt.want):
			t.Errorf("%q: err = %v, want %q", tt.command, err, tt.want)
		case !tt.wantErr && err != nil:
			t.Errorf("%q: %v", tt.command, err)
		case !tt.wantErr && !strings.HasSuffix(got, tt.want):
			t.Errorf("%q: got %q, want %q", tt.command, got, tt.want)
		}
	}

	err := CheckCommands([]runfile.App{
		{AppDirPath: dir, Command: []string{"bin/post"}},
		{AppDirPath: dir, Command: []string{"bin/user"}},
		{AppDirPath: dir, Command: []string{"bin/search"}},
	})
	if err == nil || err.Error() != "bin/post not found: run `make build`\nbin/search not found: run `make build`" {
		t.Errorf("CheckCommands = %v", err)
	}
}
