#!/usr/bin/env bash
# Makes bin/mailpit a Mailpit of the pinned version: the local SMTP server
# (127.0.0.1:1025) and web inbox (127.0.0.1:8025) that `make run` starts for
# the mailer's SMTP binding. Built from the Go module github.com/axllent/mailpit
# through the module proxy, so nothing but Go is needed (a minute or a few
# the first time; a current build is kept).
set -euo pipefail

VERSION=v1.33.1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/bin/mailpit"
stamp="$root/bin/.mailpit-version"

if [ -x "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$VERSION" ] && [ ! "$here/ensure.sh" -nt "$out" ]; then
  echo "mailpit $VERSION: $out is up to date"
  exit 0
fi

echo "mailpit $VERSION: building github.com/axllent/mailpit@$VERSION into $out"
mkdir -p "$root/bin"
start=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Outside the workspace: the module builds with its own go.mod, not go.work.
(cd "$tmp" && GOWORK=off CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath \
  -ldflags "-s -w -X github.com/axllent/mailpit/config.Version=$VERSION" \
  "github.com/axllent/mailpit@$VERSION")
mv "$tmp/mailpit" "$out"
echo "$VERSION" > "$stamp"
echo "mailpit $VERSION: built in $(( $(date +%s) - start ))s"
