// Package domain holds the search side's read model (CQRS) as values: what
// the indexer writes from post events and the search service queries, and
// the rule that splits a caption into the words search matches on.
package domain

import (
	"strings"
	"time"
	"unicode"
)

// SearchText is what a post's words are matched against: its caption and
// its alt text. (A hit shows the live post's own fields, not this.)
func SearchText(caption, altText string) string {
	if altText == "" {
		return caption
	}
	return caption + "\n" + altText
}

// Doc is one post as the read model holds it. Caption holds SearchText.
type Doc struct {
	PostID    string
	AuthorID  string
	Caption   string
	Tags      []string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Query asks for posts having every tag in Tags and every word of Words
// in their caption, newest first, leaving out posts by ExcludeAuthors.
type Query struct {
	Tags           []string
	Words          []string
	ExcludeAuthors []string
	Limit          int
	Offset         int
}

// Result is a page of matches and how many there are in all.
type Result struct {
	Docs  []Doc
	Total int64
}

// TagCount is a tag and how many live posts carry it.
type TagCount struct {
	Tag   string `json:"tag"`
	Count int64  `json:"count"`
}

// MaxWordsPerDoc bounds the caption words indexed per post.
const MaxWordsPerDoc = 200

// Words splits text into the lower-case words search matches on: runs of
// letters and digits, 1 to 50 characters, each once, in order of first
// appearance.
func Words(text string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len([]rune(w)) > 50 || seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
		if len(out) == MaxWordsPerDoc {
			break
		}
	}
	return out
}
