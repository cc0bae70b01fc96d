package domain

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"pixshare/contracts/tags"
	"pixshare/platform/apperror"
)

func TestParseTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []string
		want []string
		ok   bool
	}{
		{[]string{"Sunset, #beach,sunset"}, []string{"sunset", "beach"}, true},
		{[]string{"a", "b,c", "#A"}, []string{"a", "b", "c"}, true},
		{[]string{""}, []string{}, true},
		{[]string{"a,,b,"}, []string{"a", "b"}, true},
		{[]string{"snake_case_9"}, []string{"snake_case_9"}, true},
		{[]string{strings.Repeat("x", 50)}, []string{strings.Repeat("x", 50)}, true},
		{[]string{strings.Repeat("x", 51)}, nil, false},
		{[]string{"#"}, nil, false},
		{[]string{"two words"}, nil, false},
		{[]string{"café"}, nil, false},
		{[]string{"a-b"}, nil, false},
		{[]string{"##a"}, nil, false},
		{[]string{"'; DROP TABLE posts;--"}, nil, false},
	}
	for _, tt := range tests {
		got, err := ParseTags(tt.in)
		if (err == nil) != tt.ok || (tt.ok && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("ParseTags(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !apperror.Is(err, apperror.Unprocessable) {
			t.Errorf("ParseTags(%q): want Unprocessable, got %v", tt.in, err)
		}
	}
	var thirty, thirtyOne []string
	for i := range 31 {
		if i < 30 {
			thirty = append(thirty, fmt.Sprintf("t%d", i))
		}
		thirtyOne = append(thirtyOne, fmt.Sprintf("t%d", i))
	}
	if _, err := ParseTags(append(thirty, thirty...)); err != nil {
		t.Errorf("30 distinct tags (with duplicates) refused: %v", err)
	}
	if _, err := ParseTags(thirtyOne); err == nil {
		t.Error("31 distinct tags accepted")
	}
}

func FuzzParseTags(f *testing.F) {
	for _, s := range []string{"a,b", "#Sunset", "", ",,,", "é", strings.Repeat("a", 60)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parsed, err := ParseTags([]string{s})
		if err != nil {
			return
		}
		if len(parsed) > TagsMax {
			t.Fatalf("%d tags accepted", len(parsed))
		}
		seen := map[string]bool{}
		for _, tag := range parsed {
			if norm, err := tags.Normalize(tag); seen[tag] || err != nil || norm != tag {
				t.Fatalf("bad or duplicate tag %q accepted from %q", tag, s)
			}
			seen[tag] = true
		}
	})
}

func TestCheckCaption(t *testing.T) {
	t.Parallel()
	if c, err := CheckCaption("  hello  "); err != nil || c != "hello" {
		t.Errorf("trim: %q %v", c, err)
	}
	if _, err := CheckCaption(strings.Repeat("é", 2200)); err != nil {
		t.Errorf("2200 characters refused: %v", err)
	}
	if _, err := CheckCaption(strings.Repeat("é", 2201)); err == nil {
		t.Error("2201 characters accepted")
	}
	if _, err := CheckCaption("bad \xff utf8"); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
}

func TestSettleAndEdit(t *testing.T) {
	t.Parallel()
	p := Post{Version: 1, Status: StatusProcessing}
	p.ThumbnailReady = true
	p.Settle()
	if p.Status != StatusProcessing {
		t.Fatal("ready before the index reported")
	}
	p.IndexedVersion = 1
	p.Settle()
	if p.Status != StatusReady {
		t.Fatal("not ready after both reports")
	}
	caption := "new"
	e, err := NewEdit(&caption, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Apply(&p)
	if p.Version != 2 || p.Status != StatusProcessing || p.Indexed() {
		t.Fatalf("after edit: %+v", p)
	}
	if _, err := NewEdit(nil, nil, nil); !apperror.Is(err, apperror.Invalid) {
		t.Fatal("empty edit accepted")
	}
	failed := Post{Status: StatusFailed, ThumbnailReady: true, IndexedVersion: 1, Version: 1}
	failed.Settle()
	if failed.Status != StatusFailed {
		t.Fatal("a failure was undone")
	}
}

func TestProgressReports(t *testing.T) {
	t.Parallel()
	p := Post{Status: StatusProcessing, Version: 2, Width: 4000, Height: 3000}
	if err := p.CheckReport(3); err == nil {
		t.Fatal("a report about a version the post never had was accepted")
	}
	if err := p.CheckReport(0); err == nil {
		t.Fatal("a report without a version was accepted")
	}
	p.MarkIndexed(1)
	if p.Status != StatusProcessing || p.Indexed() {
		t.Fatalf("an older version indexed made the post %s", p.Status)
	}
	p.MarkThumbnailsReady(3000, 4000, nil)
	if p.Status != StatusProcessing || p.Width != 3000 || p.Height != 4000 {
		t.Fatalf("after thumbnails: %+v", p)
	}
	p.MarkIndexed(2)
	if p.Status != StatusReady {
		t.Fatalf("thumbnails and the current version indexed: %s, want ready", p.Status)
	}
	p.Fail("too late")
	if p.Status != StatusReady {
		t.Fatal("a post with thumbnails was failed")
	}

	q := Post{Status: StatusProcessing, Version: 1}
	q.Fail(strings.Repeat("x", 2*MaxFailedReason))
	if q.Status != StatusFailed || len(q.FailedReason) != MaxFailedReason {
		t.Fatalf("fail: %s with a %d-byte reason", q.Status, len(q.FailedReason))
	}
	q.MarkIndexed(1)
	if q.Status != StatusFailed {
		t.Fatal("a failure is final")
	}
}
