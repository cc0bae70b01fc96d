package seed

import (
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

func TestPostTagsAreValidAndEveryThirdHasThePair(t *testing.T) {
	t.Parallel()
	pairs := 0
	for i := range 30 {
		tags := PostTags(i)
		if !slices.IsSorted(tags) || len(slices.Compact(slices.Clone(tags))) != len(tags) {
			t.Fatalf("post %d: tags %v not sorted and unique", i, tags)
		}
		if slices.Contains(tags, PairTags[0]) && slices.Contains(tags, PairTags[1]) {
			pairs++
		}
	}
	if pairs < 10 {
		t.Fatalf("%d of 30 posts carry both pair tags, want at least 10", pairs)
	}
}

func TestUserNameFitsTheServiceRules(t *testing.T) {
	t.Parallel()
	n := UserName("m3k9z2a", 19)
	if len(n) < 3 || len(n) > 30 {
		t.Fatalf("%q: length %d", n, len(n))
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			t.Fatalf("%q: character %q is refused by the user service", n, c)
		}
	}
}

func TestLoadImagesKeepsOnlyWholePictures(t *testing.T) {
	t.Parallel()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "testdata", "photos")
	_, names, err := LoadImages(dir, DefaultMaxPixels)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"corrupt.jpg", "bomb.png", "not-an-image.txt"} {
		if slices.Contains(names, bad) {
			t.Errorf("%s was kept", bad)
		}
	}
	for _, good := range []string{"landscape.jpg", "small.png", "photo.webp"} {
		if !slices.Contains(names, good) {
			t.Errorf("%s was left out (kept %v)", good, names)
		}
	}
}
