package main

import (
	"fmt"
	"os"
)

// logFileMax bounds the launcher's log file: a stack left running for days
// must not fill the disk with access-log lines. Past it the file moves to
// <name>.1 (replacing the one before) and a new one begins, so the newest
// lines are always kept and at most twice this much is on disk.
const logFileMax = 256 << 20

// rotatingLog is the launcher's log file. Writes come from the console,
// which serialises them.
type rotatingLog struct {
	path string
	max  int64
	f    *os.File
	n    int64
}

// openRotatingLog creates (or empties) path.
func openRotatingLog(path string, max int64) (*rotatingLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	return &rotatingLog{path: path, max: max, f: f}, nil
}

// Write appends p, first moving a full file aside. A line is never split
// between the two files.
func (l *rotatingLog) Write(p []byte) (int, error) {
	if l.n > 0 && l.n+int64(len(p)) > l.max {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.n += int64(n)
	return n, err
}

func (l *rotatingLog) rotate() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", l.path, err)
	}
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		return fmt.Errorf("rotate %s: %w", l.path, err)
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("reopen %s: %w", l.path, err)
	}
	l.f, l.n = f, 0
	return nil
}

// Close closes the current file.
func (l *rotatingLog) Close() error { return l.f.Close() }
