package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFlagsDefaults(t *testing.T) {
	t.Setenv("PIXSHARE_BENCH_IMAGES", "")
	cfg, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.users != 20 || cfg.postsPerUser != 3 || cfg.rate != 50 || cfg.duration != 30*time.Second {
		t.Fatalf("defaults %+v", cfg)
	}
	if cfg.uploadDuration != cfg.duration || cfg.uploadPhase != "after" {
		t.Fatalf("upload defaults %+v", cfg)
	}
	if cfg.images != filepath.Join(cfg.root, "testdata", "photos") {
		t.Fatalf("images %s", cfg.images)
	}
	if !strings.HasPrefix(cfg.out, filepath.Join(cfg.root, "docs", "benchmarks")) {
		t.Fatalf("out %s", cfg.out)
	}
}

func TestParseFlagsImagesFromTheEnvironment(t *testing.T) {
	t.Setenv("PIXSHARE_BENCH_IMAGES", "/pics")
	cfg, err := parseFlags([]string{"-duration", "20s"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.images != "/pics" || cfg.uploadDuration != 20*time.Second {
		t.Fatalf("%+v", cfg)
	}
}

func TestParseFlagsRefusesNonsense(t *testing.T) {
	t.Setenv("PIXSHARE_BENCH_IMAGES", "")
	for _, args := range [][]string{
		{"-users", "1"},
		{"-rate", "0"},
		{"-mix", "feed=1,bogus=2"},
		{"-upload-phase", "sometimes"},
		{"-upload-rate", "-1"},
		{"-poll", "0s"},
		{"-ceiling-workers", "0"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
