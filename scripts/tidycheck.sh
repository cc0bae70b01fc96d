#!/usr/bin/env bash
# Fails when `go mod tidy` fails in a module or changes its go.mod or
# go.sum; the files are left as they were either way. Usage:
#   scripts/tidycheck.sh DIR...
set -uo pipefail
# same A B: both files missing, or both present and equal.
same() {
	if [ ! -e "$1" ] && [ ! -e "$2" ]; then return 0; fi
	cmp -s "$1" "$2"
}
status=0
for dir in "$@"; do
	tmp=$(mktemp -d)
	cp "$dir/go.mod" "$tmp/go.mod"
	[ -f "$dir/go.sum" ] && cp "$dir/go.sum" "$tmp/go.sum"
	if ! out=$(cd "$dir" && GOWORK=off GOFLAGS=-mod=mod go mod tidy 2>&1); then
		echo "$dir: go mod tidy failed:"
		echo "$out" | sed 's/^/  /'
		status=1
	elif ! same "$tmp/go.mod" "$dir/go.mod" || ! same "$tmp/go.sum" "$dir/go.sum"; then
		echo "$dir: go mod tidy changes go.mod or go.sum; run it and commit the result:"
		diff -u "$tmp/go.mod" "$dir/go.mod" | sed 's/^/  /'
		status=1
	fi
	cp "$tmp/go.mod" "$dir/go.mod"
	if [ -f "$tmp/go.sum" ]; then cp "$tmp/go.sum" "$dir/go.sum"; else rm -f "$dir/go.sum"; fi
	rm -rf "$tmp"
done
exit $status
