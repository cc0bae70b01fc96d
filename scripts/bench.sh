#!/usr/bin/env bash
# Runs the image pipeline benchmarks (BenchmarkVersusVips, BenchmarkGenerate,
# BenchmarkReference, BenchmarkVipsthumbnail of
# workers/internal/adapters/thumbnail) and the search benchmarks if there are
# any, and writes the raw output, a benchstat table, a CPU profile summary of
# Generate and summary.md under docs/benchmarks/bench-<UTC timestamp>/.
# `make bench` runs it.
#
# Works on a bare machine with Go and apt-get: installs libvips-tools (and
# libimage-exiftool-perl) when missing and, unless PIXSHARE_BENCH_IMAGES
# names a directory of pictures, builds the real-photo corpus of
# docs/images.md from Debian's mate-backgrounds package (downloaded with
# apt-get, unpacked in a temporary directory, never committed).
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

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
apt_updated=""
apt_install() { # package...
	if [ -z "$apt_updated" ]; then
		$sudo apt-get update -qq
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
if ! command -v vipsthumbnail >/dev/null 2>&1; then
	log "vipsthumbnail is missing: installing libvips-tools with apt-get"
	apt_install libvips-tools
	log "installed $(vipsthumbnail --version)"
fi

# The corpus (docs/images.md says what each picture is). Real photographs
# from Debian's mate-backgrounds, as shipped and derived with vips: a
# progressive 17.9 MP camera JPEG, a 24 MP baseline and a progressive
# version of it, a 12 MP phone-shaped one stored sideways with EXIF
# orientation 6, and two smaller camera JPEGs as shipped.
corpus_package=mate-backgrounds
build_corpus() { # dir
	local dir=$1 deb src
	if ! command -v exiftool >/dev/null 2>&1; then
		log "exiftool is missing: installing libimage-exiftool-perl with apt-get"
		apt_install libimage-exiftool-perl
	fi
	mkdir -p "$tmp/deb" "$dir"
	if ! (cd "$tmp/deb" && apt-get download -qq "$corpus_package" >/dev/null 2>&1); then
		$sudo apt-get update -qq # no package lists yet
		(cd "$tmp/deb" && apt-get download -qq "$corpus_package")
	fi
	deb=$(ls "$tmp"/deb/*.deb)
	log "corpus from $(basename "$deb")"
	dpkg-deb -x "$deb" "$tmp/deb/x"
	src=$tmp/deb/x/usr/share/backgrounds/mate
	cp "$src/abstract/Elephants_5640x3172.jpg" "$dir/elephants-17.9mp-progressive.jpg"
	cp "$src/nature/Wood.jpg" "$dir/wood-4.9mp.jpg"
	cp "$src/nature/Storm.jpg" "$dir/storm-2.5mp.jpg"
	# 24 MP (6000x4000, a 24 MP camera's frame): scaled by 1.2611 and
	# cropped, quality 92, 4:2:0, baseline and progressive.
	vips resize "$src/abstract/Elephants_5640x3172.jpg" "$tmp/e.v" 1.2611
	vips crop "$tmp/e.v" "$tmp/e24.v" 556 0 6000 4000
	vips jpegsave "$tmp/e24.v" "$dir/camera-24mp.jpg" --Q 92 --subsample-mode on
	vips jpegsave "$tmp/e24.v" "$dir/camera-24mp-progressive.jpg" --Q 92 --subsample-mode on --interlace
	# 12 MP, 4032x3024 like a phone's, stored as the camera held it and
	# tagged EXIF orientation 6 (shown rotated 90° clockwise).
	vips crop "$src/abstract/Elephants_5640x3172.jpg" "$tmp/e12.v" 705 0 4229 3172
	vips resize "$tmp/e12.v" "$tmp/e12r.v" 0.95342
	vips jpegsave "$tmp/e12r.v" "$tmp/p12.jpg" --Q 92 --subsample-mode on
	exiftool -q -q -n -Orientation=6 -o "$dir/phone-12mp-exif6.jpg" "$tmp/p12.jpg"
	rm -f "$tmp"/*.v "$tmp/p12.jpg"
	corpus_source="$(basename "$deb")"
}

if [ -z "${PIXSHARE_BENCH_IMAGES:-}" ]; then
	PIXSHARE_BENCH_IMAGES=$tmp/images
	log "PIXSHARE_BENCH_IMAGES is unset: building the corpus from Debian's $corpus_package"
	build_corpus "$PIXSHARE_BENCH_IMAGES"
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
	echo "pictures: $PIXSHARE_BENCH_IMAGES${corpus_source:+ (built from $corpus_source)}"
	ls -l "$PIXSHARE_BENCH_IMAGES" | tail -n +2 | awk '{print "  " $5 " bytes  " $9}'
	echo "count: $COUNT, benchtime: $BENCHTIME"
} >"$out/machine.txt"
cat "$out/machine.txt" >&2

thumb_cmd=(go test -run '^$' -bench '^Benchmark(VersusVips|Generate|Reference|Vipsthumbnail)$' -benchtime "$BENCHTIME" -count "$COUNT" -timeout 60m ./internal/adapters/thumbnail)
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
# tracks: Generate (every size) / vipsthumbnail (one 320-wide), goal ≤ 2,
# measured interleaved (BenchmarkVersusVips: the goal's number) and from the
# separate benchmarks.
awk '
	/^Benchmark(Generate|Reference|Vipsthumbnail)\// {
		split($1, p, "/"); bench = substr(p[1], 10); img = p[2]; sub(/-[0-9]+$/, "", img)
		for (i = 3; i < NF; i++) if ($(i + 1) == "ns/op") { v[bench, img, ++n[bench, img]] = $i; imgs[img] = 1 }
	}
	/^BenchmarkVersusVips\// {
		split($1, p, "/"); img = p[2]; sub(/-[0-9]+$/, "", img)
		for (i = 3; i < NF; i++) if ($(i + 1) == "x-vips") { v["X", img, ++n["X", img]] = $i; imgs[img] = 1 }
	}
	function median(b, m,   k, j, t, a, c) {
		c = n[b, m]; if (c == 0) return 0
		for (k = 1; k <= c; k++) a[k] = v[b, m, k]
		for (k = 2; k <= c; k++) { t = a[k]; for (j = k - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
	}
	END {
		print "| picture | Generate ÷ vipsthumbnail, interleaved (goal ≤ 2) | Generate ms | vipsthumbnail ms | Generate ÷ vipsthumbnail, separate runs | Reference ms | Reference ÷ Generate |"
		print "|---|---:|---:|---:|---:|---:|---:|"
		k = 0
		for (m in imgs) names[++k] = m
		for (i = 2; i <= k; i++) { t = names[i]; for (j = i - 1; j >= 1 && names[j] > t; j--) names[j + 1] = names[j]; names[j + 1] = t }
		for (i = 1; i <= k; i++) {
			m = names[i]
			x = median("X", m); g = median("Generate", m); r = median("Reference", m); s = median("Vipsthumbnail", m)
			printf "| %s | %s | %.0f | %s | %s | %s | %s |\n", m, (x ? sprintf("**%.2f**", x) : "—"), g / 1e6, \
				(s ? sprintf("%.0f", s / 1e6) : "—"), (s ? sprintf("%.2f", g / s) : "—"), \
				(r ? sprintf("%.0f", r / 1e6) : "—"), (g && r ? sprintf("%.2f", r / g) : "—")
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
