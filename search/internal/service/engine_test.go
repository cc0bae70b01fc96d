package service

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"

	"pixshare/platform/database"
	"pixshare/platform/database/dbtest"
)

func TestChoosesEngine(t *testing.T) {
	lc := fxtest.NewLifecycle(t)
	e, err := NewEngine(context.Background(), lc, EngineConfig{Engine: "sql"}, database.Config{URL: dbtest.SQLiteURL(t), MaxOpenConns: 2}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	lc.RequireStart().RequireStop()

	t.Setenv("ELASTICSEARCH_URL", "")
	_, err = NewEngine(context.Background(), fxtest.NewLifecycle(t), EngineConfig{Engine: "elasticsearch"}, database.Config{}, zap.NewNop())
	if err == nil || !strings.Contains(err.Error(), "ELASTICSEARCH_URL") {
		t.Fatalf("want a clear error without ELASTICSEARCH_URL, got %v", err)
	}
	bad := EngineConfig{Engine: "solr"}
	if err := bad.Validate(); err == nil {
		t.Fatal("an unknown engine was accepted")
	}
}
