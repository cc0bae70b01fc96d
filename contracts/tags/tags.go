// Package tags holds the one definition of a tag, shared by the post
// service (which stores them) and the search service (which matches
// them): lower case, a leading '#' removed, only a-z, 0-9 and '_', 1 to 50
// characters.
package tags

import (
	"errors"
	"strings"
)

// MaxLen is the longest tag.
const MaxLen = 50

// ErrInvalid is returned for a tag outside the definition.
var ErrInvalid = errors.New("tags may only contain a-z, 0-9 and '_' (after an optional leading '#'), 1 to 50 characters")

// Normalize returns the canonical form of one tag as a user typed it.
func Normalize(raw string) (string, error) {
	tag := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(raw)), "#")
	if n := len(tag); n < 1 || n > MaxLen {
		return "", ErrInvalid
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return "", ErrInvalid
		}
	}
	return tag, nil
}

// Parse normalises tags given as repeated values and/or comma-separated
// lists, skipping empty entries ("a,,b", a trailing comma) and merging
// duplicates in first-seen order.
func Parse(values []string) ([]string, error) {
	seen := map[string]bool{}
	out := []string{}
	for _, v := range values {
		for _, raw := range strings.Split(v, ",") {
			if strings.TrimSpace(raw) == "" {
				continue
			}
			tag, err := Normalize(raw)
			if err != nil {
				return nil, err
			}
			if !seen[tag] {
				seen[tag] = true
				out = append(out, tag)
			}
		}
	}
	return out, nil
}
