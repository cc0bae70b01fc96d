// Package docs serves the gateway's API documentation: /openapi.yaml, the
// merged OpenAPI 3 document of the routed services, and /docs, an
// interactive explorer of it whose assets the gateway serves itself.
package docs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"go.uber.org/zap"
	"go.yaml.in/yaml/v4"

	"pixshare/gateway/internal/upstream"
	"pixshare/platform/httpserver"
	"pixshare/platform/reqinfo"
)

const (
	// cacheTTL is how long a merged document is served before the services'
	// documents are read again.
	cacheTTL = 30 * time.Second
	// partialTTL is shorter, so a document missing a service fills in soon
	// after that service comes up.
	partialTTL = 5 * time.Second
	// fetchTimeout bounds the read of one service's document.
	fetchTimeout = 5 * time.Second
	// maxDocBytes caps one service's document.
	maxDocBytes = 4 << 20
)

// Merger builds the merged document and keeps it for cacheTTL.
type Merger struct {
	upstreams []upstream.Upstream
	client    *http.Client
	serverURL string
	logger    *zap.Logger

	mu      sync.Mutex
	cached  []byte
	expires time.Time
}

// NewMerger returns a merger of the routed services' documents, served at
// serverURL.
func NewMerger(ups []upstream.Upstream, transport http.RoundTripper, serverURL string, logger *zap.Logger) *Merger {
	return &Merger{
		upstreams: ups,
		client:    &http.Client{Transport: transport, Timeout: fetchTimeout},
		serverURL: serverURL,
		logger:    logger,
	}
}

// ProvideMerger is NewMerger from configuration: the server is
// GATEWAY_PUBLIC_URL or, by default, http://HTTP_ADDR.
func ProvideMerger(cfg upstream.Config, hcfg httpserver.Config, transport *http.Transport, logger *zap.Logger) *Merger {
	return NewMerger(cfg.Upstreams(), transport, ServerURL(cfg.PublicURL, hcfg.Addr), logger)
}

// ServerURL is publicURL, or the URL of listen address addr (an
// unspecified host is shown as localhost).
func ServerURL(publicURL, addr string) string {
	if publicURL != "" {
		return publicURL
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Document returns the merged document as YAML, from the cache when it is
// fresh. Concurrent callers wait for one build.
func (m *Merger) Document(ctx context.Context) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cached != nil && time.Now().Before(m.expires) {
		return m.cached, nil
	}
	// A client that goes away must not leave everyone a document missing
	// every service: the build outlives the request (keeping its id for the
	// services' logs) and is bounded by fetchTimeout instead.
	doc, missing := m.build(context.WithoutCancel(ctx))
	if err := doc.Validate(ctx); err != nil {
		// Served anyway: a reader learns more from an imperfect document
		// than from none. The services' documents need fixing.
		m.logger.Error("merged openapi document is not valid", zap.Error(err))
	}
	out, err := encode(doc)
	if err != nil {
		return nil, fmt.Errorf("encode merged openapi document: %w", err)
	}
	ttl := cacheTTL
	if len(missing) > 0 {
		ttl = partialTTL
	}
	m.cached, m.expires = out, time.Now().Add(ttl)
	return out, nil
}

func (m *Merger) build(ctx context.Context) (*openapi3.T, []string) {
	type result struct {
		doc *openapi3.T
		err error
	}
	results := make([]result, len(m.upstreams))
	var wg sync.WaitGroup
	for i, u := range m.upstreams {
		wg.Go(func() {
			doc, err := m.fetch(ctx, u)
			results[i] = result{doc, err}
		})
	}
	wg.Wait()
	var (
		sources []Source
		missing []string
	)
	for i, u := range m.upstreams {
		if err := results[i].err; err != nil {
			m.logger.Warn("service openapi document unavailable; left out of the merged document",
				zap.String("upstream", u.Name), zap.Error(err))
			missing = append(missing, u.Name)
			continue
		}
		sources = append(sources, Source{Service: u.Name, Doc: results[i].doc})
	}
	return Merge(sources, missing, m.serverURL, m.logger), missing
}

func (m *Merger) fetch(ctx context.Context, u upstream.Upstream) (*openapi3.T, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.URL.JoinPath("openapi.yaml").String(), nil)
	if err != nil {
		return nil, err
	}
	if id := reqinfo.RequestID(ctx); id != "" {
		req.Header.Set(httpserver.HeaderRequestID, id)
	}
	if tp := reqinfo.TraceParent(ctx); tp != "" {
		req.Header.Set("traceparent", tp)
	}
	res, err := m.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /openapi.yaml: HTTP %d", res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxDocBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxDocBytes {
		return nil, errors.New("document exceeds 4 MiB")
	}
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		return nil, fmt.Errorf("parse document: %w", err)
	}
	return doc, nil
}

// ordered fixes the order of the top-level keys (kin-openapi writes a map,
// which YAML encoders sort alphabetically).
type ordered struct {
	OpenAPI    string                        `yaml:"openapi"`
	Info       *openapi3.Info                `yaml:"info"`
	Servers    openapi3.Servers              `yaml:"servers,omitempty"`
	Tags       openapi3.Tags                 `yaml:"tags,omitempty"`
	Security   openapi3.SecurityRequirements `yaml:"security,omitempty"`
	Paths      *openapi3.Paths               `yaml:"paths"`
	Components *openapi3.Components          `yaml:"components,omitempty"`
}

func encode(doc *openapi3.T) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	err := enc.Encode(ordered{
		OpenAPI:    doc.OpenAPI,
		Info:       doc.Info,
		Servers:    doc.Servers,
		Tags:       doc.Tags,
		Security:   doc.Security,
		Paths:      doc.Paths,
		Components: doc.Components,
	})
	if err == nil {
		err = enc.Close()
	}
	return buf.Bytes(), err
}
