package esengine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"pixshare/search/internal/domain"
)

// bulkChunk bounds the documents per _bulk request; replayPage the hits
// per replay search.
const (
	bulkChunk  = 500
	replayPage = 500
)

// Rebuild implements app.Engine. The listing goes into a new index
// while the old one keeps serving; then the alias moves in one atomic
// _aliases request, and what the old index received meanwhile is replayed:
//
//  1. GET _alias/P: the current index P-N.
//  2. POST P-N/_refresh, then the highest _seq_no in P-N: where the
//     rebuild starts. Every later write to P-N has a higher one.
//  3. PUT P-(N+1) with the settings and mapping (no alias yet).
//  4. POST _bulk per page of the listing, external versions (a duplicate
//     in the listing is a 409 item, ignored).
//  5. Search P-N for _seq_no <= start (search_after on _seq_no) and write a
//     tombstone into P-(N+1) for every post the listing did not have: at
//     version+1 for a live one (deleted at the source; its removal was
//     lost), at its own version for a tombstone — so a stale event that
//     arrives after the rebuild is still refused, as in the SQL engine.
//  6. POST P-(N+1)/_refresh, so the swap shows a complete index.
//  7. POST _aliases: remove P from P-N and add it to P-(N+1), one request.
//  8. PUT P-N/_block/write: writes still routed to P-N fail from now on
//     (the indexer retries them through the alias), and in-flight ones
//     have completed when it returns; then POST P-N/_refresh.
//  9. Search P-N for _seq_no > start and POST _bulk those documents,
//     tombstones included, into P-(N+1) with their external versions: the
//     newer version wins either way.
//  10. DELETE P-N.
//
// A failure before step 7 deletes P-(N+1) and leaves the model as it was.
// It returns the number of listed docs.
func (e *Engine) Rebuild(ctx context.Context, next func(ctx context.Context) ([]domain.Doc, error)) (n int, err error) {
	old, err := e.currentIndex(ctx)
	if err != nil {
		return 0, err
	}
	num, err := e.indexNumber(old)
	if err != nil {
		return 0, fmt.Errorf("rebuild: %w", err)
	}
	if err := e.refreshIndex(ctx, old); err != nil {
		return 0, err
	}
	_, start, err := e.maxSeqNo(ctx, "rebuild: find start in "+old, old)
	if err != nil {
		return 0, err
	}

	fresh := e.indexName(num + 1)
	if err := e.createIndex(ctx, fresh, false); errors.Is(err, errIndexExists) {
		// Left by an interrupted rebuild: the alias is not on it.
		if err := e.deleteIndex(ctx, fresh); err != nil {
			return 0, err
		}
		if err := e.createIndex(ctx, fresh, false); err != nil {
			return 0, err
		}
	} else if err != nil {
		return 0, err
	}
	swapped := false
	defer func() {
		if err != nil && !swapped {
			// Best effort; the error that stopped the rebuild is the one to report.
			_ = e.deleteIndex(context.WithoutCancel(ctx), fresh)
		}
	}()

	listed := map[string]bool{}
	for {
		docs, err := next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, fmt.Errorf("rebuild: list posts: %w", err)
		}
		items := make([]bulkItem, len(docs))
		for i, d := range docs {
			items[i] = bulkItem{id: d.PostID, version: d.Version, source: e.liveSource(d)}
			listed[d.PostID] = true
		}
		if err := e.bulk(ctx, "rebuild: write "+fresh, fresh, items, ""); err != nil {
			return n, err
		}
		n += len(docs)
	}
	if err := e.carryTombstones(ctx, old, fresh, start, listed); err != nil {
		return n, err
	}
	if err := e.refreshIndex(ctx, fresh); err != nil {
		return n, err
	}
	// From here on the new index is never deleted: a swap that reports an
	// error (a timeout, say) may still have been applied, and deleting the
	// index would take the alias with it. A rebuild that stops here leaves
	// an unaliased index, which the next rebuild replaces.
	swapped = true
	if err := e.swapAlias(ctx, old, fresh); err != nil {
		return n, err
	}

	if err := e.blockWrites(ctx, old); err != nil {
		return n, err
	}
	if err := e.refreshIndex(ctx, old); err != nil {
		return n, err
	}
	if err := e.replay(ctx, old, fresh, start); err != nil {
		return n, err
	}
	return n, e.deleteIndex(ctx, old)
}

// currentIndex is the one concrete index behind the alias.
func (e *Engine) currentIndex(ctx context.Context) (string, error) {
	op := "get alias " + e.alias
	status, body, err := e.perform(ctx, op, esapi.IndicesGetAliasRequest{Name: []string{e.alias}})
	if err != nil {
		return "", err
	}
	if status != 200 {
		return "", failure(op, status, body)
	}
	var byIndex map[string]json.RawMessage
	if err := json.Unmarshal(body, &byIndex); err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	if len(byIndex) != 1 {
		names := make([]string, 0, len(byIndex))
		for name := range byIndex {
			names = append(names, name)
		}
		sort.Strings(names)
		return "", fmt.Errorf("%s: want exactly one index behind the alias, found %v", op, names)
	}
	var name string
	for name = range byIndex {
	}
	return name, nil
}

func (e *Engine) refreshIndex(ctx context.Context, index string) error {
	op := "refresh " + index
	status, body, err := e.perform(ctx, op, esapi.IndicesRefreshRequest{Index: []string{index}})
	if err == nil && status != 200 {
		err = failure(op, status, body)
	}
	return err
}

// acknowledged runs an index-management request answered by
// {"acknowledged": true, …}.
func (e *Engine) acknowledged(ctx context.Context, op string, req esapi.Request) error {
	status, body, err := e.perform(ctx, op, req)
	if err != nil {
		return err
	}
	if status != 200 {
		return failure(op, status, body)
	}
	var res struct {
		Acknowledged bool `json:"acknowledged"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if !res.Acknowledged {
		return fmt.Errorf("%s: not acknowledged by the cluster in time", op)
	}
	return nil
}

func (e *Engine) swapAlias(ctx context.Context, from, to string) error {
	body, err := json.Marshal(map[string]any{"actions": []any{
		map[string]any{"remove": map[string]any{"index": from, "alias": e.alias}},
		map[string]any{"add": map[string]any{"index": to, "alias": e.alias, "is_write_index": true}},
	}})
	if err != nil {
		return err
	}
	return e.acknowledged(ctx, fmt.Sprintf("move alias %s from %s to %s", e.alias, from, to),
		esapi.IndicesUpdateAliasesRequest{Body: bytes.NewReader(body)})
}

func (e *Engine) blockWrites(ctx context.Context, index string) error {
	return e.acknowledged(ctx, "block writes to "+index, esapi.IndicesAddBlockRequest{Index: []string{index}, Block: "write"})
}

func (e *Engine) deleteIndex(ctx context.Context, index string) error {
	return e.acknowledged(ctx, "delete index "+index, esapi.IndicesDeleteRequest{Index: []string{index}})
}

// scan pages through the documents of index in _seq_no order, those after
// start (after) or up to it, and hands each page to f. fields limits the
// _source returned (nil: all of it).
func (e *Engine) scan(ctx context.Context, op, index string, start int64, after bool, fields []string, f func([]searchHit) error) error {
	bound := map[string]any{"lte": start}
	if after {
		bound = map[string]any{"gt": start}
	}
	var from []any
	for {
		body := map[string]any{
			"query":               map[string]any{"range": map[string]any{"_seq_no": bound}},
			"sort":                []any{map[string]any{"_seq_no": "asc"}},
			"size":                replayPage,
			"seq_no_primary_term": true,
			"track_total_hits":    false,
		}
		if from != nil {
			body["search_after"] = from
		}
		if fields != nil {
			body["_source"] = fields
		}
		var res searchResponse
		if err := e.search(ctx, op, index, body, &res); err != nil {
			return err
		}
		hits := res.Hits.Hits
		if len(hits) > 0 {
			if err := f(hits); err != nil {
				return err
			}
		}
		if len(hits) < replayPage {
			return nil
		}
		last := hits[len(hits)-1]
		if last.SeqNo == nil {
			return fmt.Errorf("%s: hit without _seq_no", op)
		}
		from = []any{*last.SeqNo}
	}
}

// carryTombstones writes into to a tombstone for every post of from (up to
// seq start) that the listing did not contain.
func (e *Engine) carryTombstones(ctx context.Context, from, to string, start int64, listed map[string]bool) error {
	if start < 0 {
		return nil
	}
	op := "rebuild: tombstones from " + from
	now := e.now().UTC()
	return e.scan(ctx, op, from, start, false, []string{"version", "tombstone"}, func(hits []searchHit) error {
		var items []bulkItem
		for _, h := range hits {
			if listed[h.ID] {
				continue
			}
			var s storedSource
			if err := json.Unmarshal(h.Source, &s); err != nil {
				return fmt.Errorf("%s: hit %s: %w", op, h.ID, err)
			}
			version := s.Version
			if !s.Tombstone {
				version++
			}
			items = append(items, bulkItem{id: h.ID, version: version,
				source: tombstoneSource{PostID: h.ID, Version: version, Tombstone: true, UpdatedAt: now, IndexedAt: now}})
		}
		return e.bulk(ctx, op+" into "+to, to, items, "")
	})
}

// replay copies the documents written to from after seq start into to.
func (e *Engine) replay(ctx context.Context, from, to string, start int64) error {
	op := "rebuild: replay " + from
	return e.scan(ctx, op, from, start, true, nil, func(hits []searchHit) error {
		items := make([]bulkItem, len(hits))
		for i, h := range hits {
			var v struct {
				Version int64 `json:"version"`
			}
			if err := json.Unmarshal(h.Source, &v); err != nil {
				return fmt.Errorf("%s: hit %s: %w", op, h.ID, err)
			}
			items[i] = bulkItem{id: h.ID, version: v.Version, source: h.Source}
		}
		return e.bulk(ctx, op+" into "+to, to, items, e.refresh)
	})
}

func (e *Engine) liveSource(d domain.Doc) liveSource {
	tags := d.Tags
	if tags == nil {
		tags = []string{}
	}
	return liveSource{PostID: d.PostID, AuthorID: d.AuthorID, Caption: d.Caption, Tags: tags, Version: d.Version,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), IndexedAt: e.now().UTC()}
}

type bulkItem struct {
	id      string
	version int64
	source  any
}

// bulk indexes items into index with external versions, bulkChunk at a
// time. Version conflicts are expected (the index holds as new or newer);
// any other item failure is an error.
func (e *Engine) bulk(ctx context.Context, op, index string, items []bulkItem, refresh string) error {
	for len(items) > 0 {
		chunk := items[:min(bulkChunk, len(items))]
		items = items[len(chunk):]
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		for _, it := range chunk {
			action := map[string]any{"index": map[string]any{
				"_index": index, "_id": it.id, "version": it.version, "version_type": "external"}}
			if err := enc.Encode(action); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			if err := enc.Encode(it.source); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
		}
		status, body, err := e.perform(ctx, op, esapi.BulkRequest{
			Body:    &buf,
			Refresh: refresh,
			Header:  http.Header{"Content-Type": {"application/x-ndjson"}},
		})
		if err != nil {
			return err
		}
		if status != 200 {
			return failure(op, status, body)
		}
		if err := bulkFailure(op, body); err != nil {
			return err
		}
	}
	return nil
}

func bulkFailure(op string, body []byte) error {
	var res struct {
		Errors bool                          `json:"errors"`
		Items  []map[string]bulkResponseItem `json:"items"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("%s: decode response: %w", op, err)
	}
	if !res.Errors {
		return nil
	}
	var first error
	failed, busy := 0, false
	for _, item := range res.Items {
		for _, r := range item {
			if r.Status < 300 || r.Status == 409 && r.Error.Type == "version_conflict_engine_exception" {
				continue
			}
			failed++
			busy = busy || unavailableStatus(r.Status)
			if first == nil {
				first = fmt.Errorf("document %s: %w", r.ID,
					&ResponseError{Status: r.Status, Type: r.Error.Type, Reason: r.Error.Reason})
			}
		}
	}
	if failed == 0 {
		return nil
	}
	err := fmt.Errorf("%s: %d documents failed, first: %w", op, failed, first)
	if busy {
		return unavailable(err)
	}
	return err
}

type bulkResponseItem struct {
	ID     string `json:"_id"`
	Status int    `json:"status"`
	Error  struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}
