// Package openapi serves a service's OpenAPI 3 document, the source of
// truth of its REST API. openapitest checks the router and the responses
// against it.
package openapi

import (
	"net/http"
)

// ContentType of served documents.
const ContentType = "application/yaml"

// Handler serves doc (YAML) at /openapi.yaml.
func Handler(doc []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(doc)
	})
}
