package docs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"go.uber.org/zap"

	"pixshare/gateway/internal/upstream"
)

// Source is one service's document.
type Source struct {
	Service string
	Doc     *openapi3.T
}

// infrastructure paths every service serves for itself; the gateway
// answers them for itself too, so they are never a service's API.
var infrastructure = map[string]bool{"/healthz": true, "/readyz": true, "/openapi.yaml": true}

// Merge builds one document from the services' documents: their paths
// (only those the gateway routes to that service), components, tags and
// security requirements, served at serverURL. missing names routed services
// whose document could not be had; the description says so.
//
// Components of the same name must be equal; a differing one is logged as
// an error and the first kept (the services' documents should then be
// aligned). A repeated operationId is renamed "<service>_<id>" so the
// merged document stays valid.
func Merge(sources []Source, missing []string, serverURL string, logger *zap.Logger) *openapi3.T {
	out := &openapi3.T{
		OpenAPI: "3.0.3",
		Info: &openapi3.Info{
			Title:       "Pixshare API",
			Version:     "1.0.0",
			Description: description(sources, missing),
		},
		Servers:    openapi3.Servers{{URL: serverURL, Description: "Pixshare gateway"}},
		Paths:      openapi3.NewPaths(),
		Components: &openapi3.Components{},
	}
	if len(sources) > 0 && sources[0].Doc.OpenAPI != "" {
		out.OpenAPI = sources[0].Doc.OpenAPI
	}
	operationIDs := map[string]string{}
	for _, src := range sources {
		log := logger.With(zap.String("upstream", src.Service))
		doc := src.Doc
		if majorMinor(doc.OpenAPI) != majorMinor(out.OpenAPI) {
			log.Warn("openapi version differs between services", zap.String("version", doc.OpenAPI), zap.String("merged_version", out.OpenAPI))
		}
		if doc.Paths != nil {
			for _, path := range doc.Paths.InMatchingOrder() {
				item := doc.Paths.Value(path)
				switch owner := upstream.Owner(path); {
				case infrastructure[path]:
					continue
				case owner != src.Service:
					log.Warn("documented path is not routed to this service; left out of the merged document",
						zap.String("path", path), zap.String("routed_to", owner))
					continue
				case out.Paths.Value(path) != nil:
					log.Error("path documented twice; first kept", zap.String("path", path))
					continue
				}
				for method, op := range item.Operations() {
					if op.OperationID == "" {
						continue
					}
					if first, taken := operationIDs[op.OperationID]; taken {
						renamed := src.Service + "_" + op.OperationID
						log.Warn("operationId already used by another service; renamed",
							zap.String("operation_id", op.OperationID), zap.String("used_by", first),
							zap.String("renamed", renamed), zap.String("method", method), zap.String("path", path))
						op.OperationID = renamed
					}
					operationIDs[op.OperationID] = src.Service
				}
				out.Paths.Set(path, item)
			}
		}
		if c := doc.Components; c != nil {
			oc := out.Components
			oc.Schemas = mergeNamed(log, "schemas", oc.Schemas, c.Schemas)
			oc.Parameters = mergeNamed(log, "parameters", oc.Parameters, c.Parameters)
			oc.Headers = mergeNamed(log, "headers", oc.Headers, c.Headers)
			oc.RequestBodies = mergeNamed(log, "requestBodies", oc.RequestBodies, c.RequestBodies)
			oc.Responses = mergeNamed(log, "responses", oc.Responses, c.Responses)
			oc.SecuritySchemes = mergeNamed(log, "securitySchemes", oc.SecuritySchemes, c.SecuritySchemes)
			oc.Examples = mergeNamed(log, "examples", oc.Examples, c.Examples)
			oc.Links = mergeNamed(log, "links", oc.Links, c.Links)
			oc.Callbacks = mergeNamed(log, "callbacks", oc.Callbacks, c.Callbacks)
		}
		for _, tag := range doc.Tags {
			if out.Tags.Get(tag.Name) == nil {
				out.Tags = append(out.Tags, tag)
			}
		}
		for _, req := range doc.Security {
			if !slices.ContainsFunc(out.Security, func(have openapi3.SecurityRequirement) bool { return equalJSON(have, req) }) {
				out.Security = append(out.Security, req)
			}
		}
	}
	return out
}

// mergeNamed adds src's entries to dst. An entry whose name is taken is
// kept once when equal; when different, the first is kept and the conflict
// logged.
func mergeNamed[M ~map[string]V, V any](log *zap.Logger, kind string, dst, src M) M {
	for name, v := range src {
		have, taken := dst[name]
		if !taken {
			if dst == nil {
				dst = M{}
			}
			dst[name] = v
			continue
		}
		if !equalJSON(have, v) {
			log.Error("openapi component differs from one of the same name in another service; first kept",
				zap.String("component", "#/components/"+kind+"/"+name))
		}
	}
	return dst
}

// equalJSON compares two document parts by their JSON form (references
// compare by their $ref, maps by sorted keys).
func equalJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

func majorMinor(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return version
	}
	return parts[0] + "." + parts[1]
}

func description(sources []Source, missing []string) string {
	var b strings.Builder
	b.WriteString("The Pixshare REST API, served through one origin: the gateway routes each path to the service that owns it. ")
	b.WriteString("Errors are RFC 9457 problem documents (application/problem+json) carrying a request_id; ")
	b.WriteString("authenticated routes take `Authorization: Bearer <access_token>` from POST /v1/users/login.\n\n")
	names := make([]string, 0, len(sources))
	for _, s := range sources {
		names = append(names, s.Service)
	}
	if len(names) > 0 {
		fmt.Fprintf(&b, "Services in this document: %s.", strings.Join(names, ", "))
	} else {
		b.WriteString("No service document could be read.")
	}
	if len(missing) > 0 {
		fmt.Fprintf(&b, "\n\nLeft out (unreachable or invalid document when this document was built): %s.", strings.Join(missing, ", "))
	}
	return b.String()
}
