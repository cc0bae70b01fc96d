#!/usr/bin/env bash
# Runs every native Go fuzz target of the workspace briefly. The budget is a
# count of executions (-fuzztime 20000x), not a duration: with a duration,
# Go's coordinator can report "context deadline exceeded" as a failure when
# the deadline fires while a worker is still busy (golang/go#75804, still in
# Go 1.26), which failed CI on a loaded machine with no crasher found. A
# duration still works as the argument for a longer run by hand.
# The seed corpora under testdata/fuzz are committed; what a run finds is
# written there too (commit it after fixing the bug). A module or package
# that go list cannot load fails the run: a broken package must not pass
# for one without fuzz targets.
set -euo pipefail
fuzztime=${1:-20000x}
cd "$(dirname "$0")/.."
modules=$(go list -m -f '{{.Dir}}')
ran=0
for dir in $modules; do
	pkgdirs=$(cd "$dir" && go list -f '{{.Dir}}' ./...)
	for pkgdir in $pkgdirs; do
		tests=("$pkgdir"/*_test.go)
		[ -e "${tests[0]}" ] || continue
		targets=$(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' "${tests[@]}" | sed -E 's/func (Fuzz[A-Za-z0-9_]+).*/\1/' || true)
		for target in $targets; do
			echo "fuzz ${pkgdir#"$PWD"/} $target ($fuzztime)"
			(cd "$pkgdir" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" .)
			ran=$((ran + 1))
		done
	done
done
if [ "$ran" -eq 0 ]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi
echo "fuzz: $ran targets ran"
