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
	if cfg.stackLog != filepath.Join(cfg.root, ".data", "stack.log") {
		t.Fatalf("stack log %s", cfg.stackLog)
	}
	if cfg.nginx != "" || !cfg.nginxInstall || cfg.nginxWorkers != "auto" || !cfg.nginxAccessLog || cfg.postHTTP != "127.0.0.1:8082" ||
		strings.Join(cfg.ceilingImages, ",") != "large,original" {
		t.Fatalf("ceiling defaults %+v", cfg)
	}
}

func TestParseFlagsStackLogFollowsData(t *testing.T) {
	t.Setenv("PIXSHARE_BENCH_IMAGES", "")
	cfg, err := parseFlags([]string{"-data", "/d", "-ceiling-images", " thumb, ", "-nginx-workers", "2"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.stackLog != "/d/stack.log" || strings.Join(cfg.ceilingImages, ",") != "thumb" || cfg.nginxWorkers != "2" {
		t.Fatalf("%+v", cfg)
	}
	if cfg, err = parseFlags([]string{"-data", "/d", "-stack-log", "/l", "-ceiling-images", ""}); err != nil || cfg.stackLog != "/l" || len(cfg.ceilingImages) != 0 {
		t.Fatalf("%+v %v", cfg, err)
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
		{"-nginx-workers", "0"},
		{"-nginx-workers", "many"},
		{"-ceiling-images", "large,huge"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
