// Package api holds the comment service's OpenAPI document, the source of
// truth of its REST API (served at /openapi.yaml, checked by tests).
package api

import _ "embed"

// OpenAPI is the document.
//
//go:embed openapi.yaml
var OpenAPI []byte
