package blob

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestKeysIn reads the list answers of the components Pixshare documents,
// in the shapes they marshal (the cloud ones from their SDKs' types).
func TestKeysIn(t *testing.T) {
	answers := map[string]string{
		"localstorage": `["/srv/pixshare/.data/images/uploads/a", "/srv/pixshare/.data/images/uploads/b"]`,
		"s3": `{"Contents":[{"ETag":"\"x\"","Key":"uploads/a","Size":3},{"Key":"uploads/b"}],
			"IsTruncated":false,"Marker":"","MaxKeys":1000,"Name":"pixshare-images","Prefix":"uploads/"}`,
		"azure blob": `[{"Name":"uploads/a","Properties":{"ContentLength":3}},{"Name":"uploads/b"}]`,
		"gcs":        `[{"Name":"uploads/a","Bucket":"pixshare-images","Size":3},{"Name":"uploads/b","MediaLink":"https://storage.example/pixshare-images/uploads/b?alt=media"}]`,
	}
	for component, text := range answers {
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			t.Fatal(err)
		}
		got := keysIn(v, "uploads/", nil)
		slices.Sort(got)
		got = slices.Compact(got)
		if want := []string{"uploads/a", "uploads/b"}; !slices.Equal(got, want) {
			t.Errorf("%s: keys %q, want %q", component, got, want)
		}
	}
	// Not a key: the prefix mid-word, the prefix alone.
	var v any
	_ = json.Unmarshal([]byte(`["/x/myuploads/a", "uploads/", "renditions/uploads"]`), &v)
	if got := keysIn(v, "uploads/", nil); len(got) != 0 {
		t.Errorf("found keys in %v: %q", v, got)
	}
}
