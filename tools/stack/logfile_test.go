package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLogFileKeepsTheNewestLinesWithinItsBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stack.log")
	l, err := openRotatingLog(path, 100)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 29) + "\n" // 30 bytes
	for i := 0; i < 10; i++ {
		if _, err := l.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Write([]byte("last\n")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cur, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path + ".1")
	if err != nil {
		t.Fatalf("the full file was not moved aside: %v", err)
	}
	if len(cur) > 100 || len(old) > 100 {
		t.Fatalf("files of %d and %d bytes, bound 100", len(cur), len(old))
	}
	if !strings.HasSuffix(string(cur), "last\n") {
		t.Fatalf("the newest line is not in the current file: %q", cur)
	}
	if len(cur)%30 != 5 || len(old)%30 != 0 {
		t.Fatalf("a line was split between the files: %d and %d bytes", len(cur), len(old))
	}
}
