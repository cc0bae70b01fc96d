package jpegdec

import (
	"bufio"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestUpstream keeps the fork honest about what it forks:
//   - when the toolchain is the release UPSTREAM records, applying
//     upstream.patch to that release's image/jpeg files must give the
//     fork's files exactly (so the patch is the whole difference, and a
//     re-sync loses nothing);
//   - when the toolchain is a newer release, the test fails until someone
//     runs resync.sh, so the decoder cannot silently stay behind Go's
//     fixes (a security fix in image/jpeg must reach the fork too).
func TestUpstream(t *testing.T) {
	release, files := readUpstream(t)
	toolchain := runtime.Version()
	cmp, ok := compareGoVersions(toolchain, release)
	switch {
	case !ok:
		t.Skipf("toolchain %q is not a release: cannot compare it with %s", toolchain, release)
	case cmp > 0:
		t.Fatalf("the toolchain is %s but jpegdec forks image/jpeg of %s: run workers/internal/adapters/thumbnail/jpegdec/resync.sh "+
			"to re-apply upstream.patch to %s's image/jpeg (it records the new release in UPSTREAM), review and commit", toolchain, release, toolchain)
	case cmp < 0:
		t.Skipf("the toolchain %s is older than the forked release %s: nothing to check against", toolchain, release)
	}
	src := filepath.Join(build.Default.GOROOT, "src", "image", "jpeg")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("no sources of the toolchain's image/jpeg: %v", err)
	}
	patch, err := os.ReadFile("upstream.patch")
	if err != nil {
		t.Fatal(err)
	}
	diffs, err := parsePatch(string(patch))
	if err != nil {
		t.Fatalf("upstream.patch: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		orig, err := os.ReadFile(filepath.Join(build.Default.GOROOT, f))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		got := string(orig)
		if hunks, ok := diffs[name]; ok {
			if got, err = applyHunks(got, hunks); err != nil {
				t.Fatalf("upstream.patch on %s's %s: %v", release, f, err)
			}
		}
		if got != string(want) {
			t.Errorf("upstream.patch applied to %s's %s is not the fork's %s: after changing the fork, run resync.sh diff", release, f, name)
		}
		delete(diffs, name)
	}
	for name := range diffs {
		t.Errorf("upstream.patch changes %s, which UPSTREAM does not list", name)
	}
}

// readUpstream returns the release and the GOROOT-relative files UPSTREAM
// records.
func readUpstream(t *testing.T) (string, []string) {
	t.Helper()
	data, err := os.ReadFile("UPSTREAM")
	if err != nil {
		t.Fatal(err)
	}
	var release string
	var files []string
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "release: "); ok {
			release = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "files: "); ok {
			files = strings.Fields(v)
		}
	}
	if release == "" || len(files) == 0 {
		t.Fatal("UPSTREAM lacks a release: or files: line")
	}
	return release, files
}

// compareGoVersions compares two release names such as go1.26.8 (go1.27
// is go1.27.0; a pre-release like go1.27rc1 comes before go1.27.0). ok is
// false when either is not a release name (a devel toolchain).
func compareGoVersions(a, b string) (int, bool) {
	pa, oka := parseGoVersion(a)
	pb, okb := parseGoVersion(b)
	if !oka || !okb {
		return 0, false
	}
	for i := range pa {
		if pa[i] != pb[i] {
			if pa[i] < pb[i] {
				return -1, true
			}
			return 1, true
		}
	}
	return 0, true
}

// parseGoVersion turns go1.26.8 into {1, 26, 8, 1<<30} and go1.27rc1 into
// {1, 27, 0, 1}: the last number orders pre-releases before the release.
func parseGoVersion(v string) ([4]int, bool) {
	var out [4]int
	v, ok := strings.CutPrefix(v, "go")
	if !ok {
		return out, false
	}
	out[3] = 1 << 30
	for _, pre := range []string{"rc", "beta"} {
		if i := strings.Index(v, pre); i >= 0 {
			n, err := strconv.Atoi(v[i+len(pre):])
			if err != nil {
				return out, false
			}
			out[3] = n
			v = v[:i]
		}
	}
	parts := strings.Split(v, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

// hunk is one @@ section of a unified diff: the old file's first line
// (1-based) and the hunk's lines, each starting with ' ', '-' or '+'.
type hunk struct {
	oldStart int
	lines    []string
}

// parsePatch reads a unified diff of whole files (as diff -u writes
// them), by the file name after b/.
func parsePatch(patch string) (map[string][]hunk, error) {
	out := map[string][]hunk{}
	var name string
	sc := bufio.NewScanner(strings.NewReader(patch))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "--- "):
		case strings.HasPrefix(line, "+++ "):
			name = strings.TrimPrefix(strings.Fields(line)[1], "b/")
		case strings.HasPrefix(line, "@@ "):
			// "@@ -l,s +l,s @@", where ",s" is left out when s is 1.
			fields := strings.Fields(line)
			if len(fields) < 3 || !strings.HasPrefix(fields[1], "-") {
				return nil, fmt.Errorf("hunk header %q", line)
			}
			start, _, _ := strings.Cut(fields[1][1:], ",")
			oldStart, err := strconv.Atoi(start)
			if err != nil {
				return nil, fmt.Errorf("hunk header %q: %v", line, err)
			}
			out[name] = append(out[name], hunk{oldStart: oldStart})
		case strings.HasPrefix(line, `\`): // "\ No newline at end of file"
			return nil, fmt.Errorf("%s: a file without a final newline", name)
		default:
			hs := out[name]
			if len(hs) == 0 || line == "" || !strings.ContainsRune(" -+", rune(line[0])) {
				return nil, fmt.Errorf("%s: unexpected line %q", name, line)
			}
			hs[len(hs)-1].lines = append(hs[len(hs)-1].lines, line)
		}
	}
	return out, sc.Err()
}

// applyHunks applies hunks to text strictly: every context and removed
// line must be where the hunk says.
func applyHunks(text string, hunks []hunk) (string, error) {
	old := strings.SplitAfter(text, "\n")
	if old[len(old)-1] == "" {
		old = old[:len(old)-1]
	}
	var out []string
	next := 0 // index in old of the next line not yet copied
	for _, h := range hunks {
		at := h.oldStart - 1
		if at < next || at > len(old) {
			return "", fmt.Errorf("hunk at line %d is out of order", h.oldStart)
		}
		out = append(out, old[next:at]...)
		next = at
		for _, l := range h.lines {
			body := l[1:] + "\n"
			switch l[0] {
			case '+':
				out = append(out, body)
			default:
				if next >= len(old) || old[next] != body {
					return "", fmt.Errorf("line %d is not %q", next+1, l[1:])
				}
				if l[0] == ' ' {
					out = append(out, body)
				}
				next++
			}
		}
	}
	out = append(out, old[next:]...)
	return strings.Join(out, ""), nil
}

func TestCompareGoVersions(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
		ok   bool
	}{
		{"go1.26.8", "go1.26.8", 0, true},
		{"go1.26.9", "go1.26.8", 1, true},
		{"go1.27", "go1.26.8", 1, true},
		{"go1.27rc1", "go1.26.8", 1, true},
		{"go1.27rc1", "go1.27", -1, true},
		{"go1.26.7", "go1.26.8", -1, true},
		{"go1.100.0", "go1.26.8", 1, true},
		{"devel go1.27-abcdef", "go1.26.8", 0, false},
	} {
		if got, ok := compareGoVersions(tt.a, tt.b); got != tt.want || ok != tt.ok {
			t.Errorf("compareGoVersions(%q, %q) = %d, %v; want %d, %v", tt.a, tt.b, got, ok, tt.want, tt.ok)
		}
	}
}
