#!/usr/bin/env bash
# Runs the image pipeline benchmarks (BenchmarkGenerate, BenchmarkReference,
# BenchmarkVipsthumbnail of workers/internal/adapters/thumbnail) and the search
# benchmarks if there are any, and writes the raw output, a benchstat table,
# a CPU profile summary of Generate and summary.md under
# docs/benchmarks/bench-<UTC timestamp>/. `make bench` runs it.
#
# Works on a bare machine with Go: installs libvips-tools with apt-get when
# vipsthumbnail is missing, and renders a 24 MP photo-like JPEG when
# PIXSHARE_BENCH_IMAGES does not name a directory of pictures.
#
# Settings (environment): COUNT (runs of each benchmark, default 6: what
# benchstat needs for a confidence interval), BENCHTIME (default 1s),
# PIXSHARE_BENCH_IMAGES, OUT (output directory). The search benchmark runs
# on SQLite always and on PostgreSQL too when PIXSHARE_TEST_POSTGRES_DSN is
# set (in a schema of its own, bench_search).
set -euo pipefail

cd "$(dirname "$0")/.."
COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-1s}
# The newest golang.org/x/perf the module proxy served when this was written
# (`go list -m golang.org/x/perf@latest`); pinned so tables stay comparable.
BENCHSTAT="golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"
stamp=$(date -u +%Y%m%d-%H%M%S)
out=${OUT:-docs/benchmarks/bench-$stamp}
mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

log() { echo "bench: $*" >&2; }

if ! command -v vipsthumbnail >/dev/null 2>&1; then
	log "vipsthumbnail is missing: installing libvips-tools with apt-get"
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libvips-tools >/dev/null
	log "installed $(vipsthumbnail --version)"
fi

if [ -z "${PIXSHARE_BENCH_IMAGES:-}" ]; then
	PIXSHARE_BENCH_IMAGES=$tmp/images
	mkdir -p "$PIXSHARE_BENCH_IMAGES"
	log "PIXSHARE_BENCH_IMAGES is unset: rendering a 6000x4000 (24 MP) photo-like JPEG"
	go run ./tools/load/cmd/photo -size 6000x4000 -o "$PIXSHARE_BENCH_IMAGES/camera-24mp.jpg" >&2
fi
export PIXSHARE_BENCH_IMAGES

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "cores: $(nproc)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "go: $(go version)"
	echo "vipsthumbnail: $(vipsthumbnail --version)"
	echo "pictures: $PIXSHARE_BENCH_IMAGES"
	ls -l "$PIXSHARE_BENCH_IMAGES" | tail -n +2 | awk '{print "  " $5 " bytes  " $9}'
	echo "count: $COUNT, benchtime: $BENCHTIME"
} >"$out/machine.txt"
cat "$out/machine.txt" >&2

thumb_cmd=(go test -run '^$' -bench '^Benchmark(Generate|Reference|Vipsthumbnail)$' -benchtime "$BENCHTIME" -count "$COUNT" -timeout 60m ./internal/adapters/thumbnail)
log "cd workers && PIXSHARE_BENCH_IMAGES=$PIXSHARE_BENCH_IMAGES ${thumb_cmd[*]}"
(cd workers && "${thumb_cmd[@]}") | tee "$out/thumbnail.txt" >&2

log "CPU profile of BenchmarkGenerate"
(cd workers && go test -run '^$' -bench '^BenchmarkGenerate$' -benchtime 3x -count 1 \
	-cpuprofile "$tmp/generate.pprof" -o "$tmp/thumbnail.test" ./internal/adapters/thumbnail) >"$tmp/profile-run.txt"
go tool pprof -top -nodecount=30 "$tmp/thumbnail.test" "$tmp/generate.pprof" >"$out/generate-cpu-top.txt" 2>/dev/null

search_pkgs=$(grep -rl --include='*_test.go' '^func Benchmark' search 2>/dev/null | xargs -r -n1 dirname | sort -u || true)
if [ -n "$search_pkgs" ]; then
	for pkg in $search_pkgs; do
		log "search benchmarks in $pkg"
		(cd search && go test -run '^$' -bench . -benchtime "$BENCHTIME" -count "$COUNT" "./${pkg#search/}") | tee -a "$out/search.txt" >&2
	done
else
	log "no benchmarks in search/ (grep '^func Benchmark' found none)"
	echo "no benchmarks in search/ at $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$out/search.txt"
fi

log "benchstat ($BENCHSTAT)"
if (cd "$out" && go run "$BENCHSTAT" -col .name thumbnail.txt >benchstat.txt 2>"$tmp/benchstat.err"); then
	:
else
	log "benchstat did not run ($(head -c 300 "$tmp/benchstat.err")); summary.md has the medians only"
	echo "benchstat unavailable" >"$out/benchstat.txt"
fi
if grep -q '^Benchmark' "$out/search.txt"; then
	(cd "$out" && go run "$BENCHSTAT" search.txt >benchstat-search.txt 2>/dev/null) || echo "benchstat unavailable" >"$out/benchstat-search.txt"
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"

# Medians of sec/op per benchmark and picture, and the ratios the project
# tracks: Generate (every size) / vipsthumbnail (one 320-wide), goal ≤ 2.
awk '
	/^Benchmark(Generate|Reference|Vipsthumbnail)\// {
		split($1, p, "/"); bench = substr(p[1], 10); img = p[2]; sub(/-[0-9]+$/, "", img)
		for (i = 3; i < NF; i++) if ($(i + 1) == "ns/op") { v[bench, img, ++n[bench, img]] = $i; imgs[img] = 1 }
	}
	function median(b, m,   k, j, t, a, c) {
		c = n[b, m]; if (c == 0) return 0
		for (k = 1; k <= c; k++) a[k] = v[b, m, k]
		for (k = 2; k <= c; k++) { t = a[k]; for (j = k - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
	}
	END {
		print "| picture | Generate ms | Reference ms | vipsthumbnail ms | Generate / vipsthumbnail (goal ≤ 2) | Reference / Generate |"
		print "|---|---:|---:|---:|---:|---:|"
		for (m in imgs) {
			g = median("Generate", m); r = median("Reference", m); s = median("Vipsthumbnail", m)
			printf "| %s | %.0f | %.0f | %s | %s | %s |\n", m, g / 1e6, r / 1e6, \
				(s ? sprintf("%.0f", s / 1e6) : "—"), (s ? sprintf("%.2f", g / s) : "—"), (g ? sprintf("%.2f", r / g) : "—")
		}
	}' "$out/thumbnail.txt" >"$tmp/ratios.md"

{
	echo "# Image pipeline benchmarks, $stamp"
	echo
	echo '```'
	cat "$out/machine.txt"
	echo '```'
	echo
	echo "Command (in workers/): \`PIXSHARE_BENCH_IMAGES=… ${thumb_cmd[*]}\`"
	echo
	echo "Medians of $COUNT runs:"
	echo
	cat "$tmp/ratios.md"
	echo
	echo "benchstat -col .name (Generate is the base column):"
	echo
	echo '```'
	cat "$out/benchstat.txt"
	echo '```'
	echo
	if [ -f "$out/benchstat-search.txt" ]; then
		echo "Search benchmarks (benchstat; raw output in search.txt):"
		echo
		echo '```'
		cat "$out/benchstat-search.txt"
		echo '```'
		echo
	fi
	echo "Where Generate spends its CPU (go test -cpuprofile, top 30 by flat time):"
	echo
	echo '```'
	sed -n '1,40p' "$out/generate-cpu-top.txt"
	echo '```'
} >"$out/summary.md"

cat "$tmp/ratios.md"
log "wrote $out (summary.md, machine.txt, thumbnail.txt, benchstat.txt, generate-cpu-top.txt, search.txt and, with search benchmarks, benchstat-search.txt)"
