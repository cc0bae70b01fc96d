package docs

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/swaggest/swgui"
	"github.com/swaggest/swgui/v5/static"
	"github.com/swaggest/swgui/v5emb"
	"go.uber.org/zap"

	"pixshare/platform/apperror"
	"pixshare/platform/httpserver"
	"pixshare/platform/openapi"
)

// The explorer is Swagger UI from the Go module github.com/swaggest/swgui
// (package v5emb: Swagger UI 5.x, Apache-2.0 like Swagger UI itself). Its
// JS, CSS and icons are embedded in the module, gzip-compressed, so the
// gateway binary serves them itself and /docs works offline. Chosen over
// committing swagger-ui-dist from npm because the assets then arrive
// pinned by go.sum and are updated with `go get`, with no megabytes of
// vendored JavaScript (and its licence file) to keep in this repository.
const basePath = "/docs/"

// Register serves /openapi.yaml (the merged document) and /docs.
func Register(rt *httpserver.Router, m *Merger, logger *zap.Logger) {
	rt.Handle("/openapi.yaml", documentHandler(m, logger)).Methods(http.MethodGet, http.MethodHead)
	ui := uiHandler(logger)
	rt.Handle("/docs", ui).Methods(http.MethodGet, http.MethodHead)
	rt.HandlePrefix(basePath, ui).Methods(http.MethodGet, http.MethodHead)
}

func documentHandler(m *Merger, logger *zap.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, err := m.Document(r.Context())
		if err != nil {
			httpserver.WriteError(w, r, logger, err)
			return
		}
		w.Header().Set("Content-Type", openapi.ContentType)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(doc)
	})
}

// uiHandler serves the explorer page at /docs and /docs/, and its assets
// below /docs/; anything else there is a 404 problem like every other.
func uiHandler(logger *zap.Logger) http.Handler {
	ui := v5emb.NewHandlerWithConfig(swgui.Config{
		Title:       "Pixshare API",
		SwaggerJSON: "/openapi.yaml",
		BasePath:    basePath,
		SettingsUI: map[string]string{
			// Show the schemas section (the default hides it).
			"defaultModelsExpandDepth": "1",
		},
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name := strings.TrimPrefix(r.URL.Path, basePath); name != "" && r.URL.Path != "/docs" && !isAsset(name) {
			httpserver.WriteError(w, r, logger, apperror.NotFoundf("no documentation asset %s", r.URL.Path))
			return
		}
		ui.ServeHTTP(w, r)
	})
}

// isAsset reports whether name is one of the embedded files (stored
// gzip-compressed, served decompressed to clients that do not accept gzip).
func isAsset(name string) bool {
	if !fs.ValidPath(name) {
		return false
	}
	for _, candidate := range []string{name, name + ".gz"} {
		if st, err := fs.Stat(static.FS, candidate); err == nil && !st.IsDir() {
			return true
		}
	}
	return false
}
