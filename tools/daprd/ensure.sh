#!/usr/bin/env bash
# Makes bin/daprd a daprd 1.14.0: an up-to-date local build, else a matching
# daprd from PATH or ~/.dapr/bin (`dapr init`), else a fresh build from the
# pinned github.com/dapr/dapr module (a few minutes and a few GB of modules
# the first time; later builds are cached).
set -euo pipefail

VERSION=1.14.0
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/bin/daprd"

version_of() { "$1" --version 2>/dev/null | head -n1 | tr -d '[:space:]'; }

# A build of ours is current when it reports the version and is newer than
# every input of the build.
if [ -x "$out" ] && [ ! -L "$out" ] && [ "$(version_of "$out")" = "$VERSION" ]; then
  stale=$(find "$here" -newer "$out" \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) | head -n1)
  if [ -z "$stale" ]; then
    echo "daprd $VERSION: $out is up to date"
    exit 0
  fi
fi
if [ -L "$out" ] && [ "$(version_of "$out")" = "$VERSION" ]; then
  echo "daprd $VERSION: using $(readlink "$out")"
  exit 0
fi

for candidate in "$(command -v daprd 2>/dev/null || true)" "$HOME/.dapr/bin/daprd"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && [ "$candidate" != "$out" ] && [ "$(version_of "$candidate")" = "$VERSION" ]; then
    mkdir -p "$root/bin"
    ln -sf "$candidate" "$out"
    echo "daprd $VERSION: using $candidate"
    exit 0
  fi
done

echo "daprd $VERSION: building from github.com/dapr/dapr@v$VERSION into $out"
echo "  (the first build downloads ~2 GB of modules and compiles ~3000 packages: expect 5-15 minutes)"
mkdir -p "$root/bin"
rm -f "$out"
start=$(date +%s)
cd "$here"
GOWORK=off GOFLAGS=-mod=mod go mod download
echo "  modules downloaded after $(( $(date +%s) - start ))s; compiling"
# -v names each package as it compiles; print a count every 250 so a long
# build shows it is moving.
GOWORK=off go build -v -tags stablecomponents -trimpath \
  -ldflags "-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$VERSION" \
  -o "$out.tmp" . 2>&1 | awk '/^(#|go: |[^ ]+\.go:)/ { print; next } { n++; if (n % 250 == 0) printf "  %d packages compiled\n", n; fflush() }'
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ] || [ ! -x "$out.tmp" ]; then
  echo "daprd build failed (status $status)" >&2
  exit 1
fi
mv "$out.tmp" "$out"
echo "daprd $VERSION: built in $(( $(date +%s) - start ))s: $(version_of "$out")"
