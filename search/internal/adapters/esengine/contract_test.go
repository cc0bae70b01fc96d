package esengine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"pixshare/search/internal/adapters/contract"
	"pixshare/search/internal/app"
)

// TestContract runs the behaviour suite every engine must pass against a
// REAL Elasticsearch 8 cluster: ELASTICSEARCH_URL (and, with security on,
// ELASTICSEARCH_USERNAME / ELASTICSEARCH_PASSWORD). Each test gets a fresh
// random IndexPrefix, deleted afterwards. Without ELASTICSEARCH_URL it is
// skipped; the recorded tests (recorded_test.go) still run.
func TestContract(t *testing.T) {
	url := os.Getenv("ELASTICSEARCH_URL")
	if url == "" {
		t.Skip("no Elasticsearch cluster configured: set ELASTICSEARCH_URL (e.g. http://localhost:9200) to run the contract suite against a real cluster; the recorded-response tests ran instead")
	}
	contract.Run(t, func(t *testing.T) app.Engine {
		ctx := context.Background()
		suffix := make([]byte, 6)
		if _, err := rand.Read(suffix); err != nil {
			t.Fatal(err)
		}
		prefix := "pixshare-test-" + hex.EncodeToString(suffix)
		e, err := New(ctx, Config{
			Addresses:      strings.Split(url, ","),
			Username:       os.Getenv("ELASTICSEARCH_USERNAME"),
			Password:       os.Getenv("ELASTICSEARCH_PASSWORD"),
			IndexPrefix:    prefix,
			RefreshWaitFor: true,
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { deleteTestIndices(t, e, prefix) })
		return e
	})
}

// deleteTestIndices deletes every index named prefix-*, by name (clusters
// refuse wildcard deletes by default).
func deleteTestIndices(t *testing.T, e *Engine, prefix string) {
	ctx := context.Background()
	res, err := esapi.IndicesGetRequest{Index: []string{prefix + "-*"}}.Do(ctx, e.es)
	if err != nil {
		t.Errorf("list test indices: %v", err)
		return
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var byName map[string]json.RawMessage
	if err := json.Unmarshal(body, &byName); err != nil {
		t.Errorf("list test indices: %v: %s", err, body)
		return
	}
	for name := range byName {
		if err := e.deleteIndex(ctx, name); err != nil {
			t.Errorf("delete test index %s: %v", name, err)
		}
	}
}
