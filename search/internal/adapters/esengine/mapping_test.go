package esengine

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestIndexMapping checks index.json, the settings and mapping every
// concrete index is created with: valid JSON, strict, and the field types
// the queries rely on.
func TestIndexMapping(t *testing.T) {
	var index struct {
		Settings struct {
			Index struct {
				Shards json.Number `json:"number_of_shards"`
			} `json:"index"`
			Analysis struct {
				Analyzer map[string]struct {
					Type      string   `json:"type"`
					Tokenizer string   `json:"tokenizer"`
					Filter    []string `json:"filter"`
				} `json:"analyzer"`
				Tokenizer map[string]map[string]any `json:"tokenizer"`
				Filter    map[string]map[string]any `json:"filter"`
			} `json:"analysis"`
		} `json:"settings"`
		Mappings struct {
			Dynamic    string `json:"dynamic"`
			Properties map[string]struct {
				Type     string `json:"type"`
				Analyzer string `json:"analyzer"`
			} `json:"properties"`
		} `json:"mappings"`
	}
	if err := json.Unmarshal(indexJSON, &index); err != nil {
		t.Fatalf("index.json is not valid JSON: %v", err)
	}
	want := map[string]string{
		"post_id": "keyword", "author_id": "keyword", "tags": "keyword", "caption": "text",
		"version": "long", "tombstone": "boolean",
		"created_at": "date", "updated_at": "date", "indexed_at": "date",
	}
	got := map[string]string{}
	for name, p := range index.Mappings.Properties {
		got[name] = p.Type
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("field types = %v, want %v", got, want)
	}
	if index.Mappings.Dynamic != "strict" {
		t.Errorf("dynamic = %q: an unknown field must be rejected, not mapped", index.Mappings.Dynamic)
	}
	if index.Settings.Index.Shards != "1" {
		t.Errorf("number_of_shards = %q: one shard keeps tag counts exact", index.Settings.Index.Shards)
	}

	// The caption analyzer must cut text like domain.Words: runs of
	// letters and digits, lower-cased, at most 50 characters, each once,
	// the first 200.
	name := index.Mappings.Properties["caption"].Analyzer
	a, ok := index.Settings.Analysis.Analyzer[name]
	if !ok {
		t.Fatalf("caption analyzer %q is not defined", name)
	}
	if tok := index.Settings.Analysis.Tokenizer[a.Tokenizer]; tok["type"] != "pattern" || tok["pattern"] != `[^\p{L}\p{Nd}]+` {
		t.Errorf("tokenizer %s = %v, want a pattern tokenizer splitting on non-letters/digits", a.Tokenizer, tok)
	}
	if len(a.Filter) != 4 || a.Filter[0] != "lowercase" || a.Filter[2] != "unique" {
		t.Fatalf("filters = %v, want lowercase, length, unique, limit", a.Filter)
	}
	if f := index.Settings.Analysis.Filter[a.Filter[1]]; f["type"] != "length" || f["max"] != 50.0 {
		t.Errorf("filter %s = %v, want length max 50", a.Filter[1], f)
	}
	if f := index.Settings.Analysis.Filter[a.Filter[3]]; f["type"] != "limit" || f["max_token_count"] != 200.0 {
		t.Errorf("filter %s = %v, want limit 200 (domain.MaxWordsPerDoc)", a.Filter[3], f)
	}
}
