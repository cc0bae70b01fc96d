#!/usr/bin/env bash
# Runs every native Go fuzz target of the workspace for a short time each.
# The seed corpora under testdata/fuzz are committed; what a run finds is
# written there too (commit it after fixing the bug).
set -euo pipefail
fuzztime=${1:-10s}
cd "$(dirname "$0")/.."
for dir in $(go list -m -f '{{.Dir}}'); do
  for pkg in $(cd "$dir" && go list ./... 2>/dev/null); do
    pkgdir=$(cd "$dir" && go list -f '{{.Dir}}' "$pkg")
    for target in $(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' "$pkgdir"/*_test.go 2>/dev/null | sed -E 's/func (Fuzz[A-Za-z0-9_]+).*/\1/'); do
      echo "fuzz $pkg $target ($fuzztime)"
      (cd "$pkgdir" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" .) || exit 1
    done
  done
done
