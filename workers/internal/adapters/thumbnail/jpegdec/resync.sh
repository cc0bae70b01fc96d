#!/usr/bin/env bash
# Keeps jpegdec, a fork of Go's image/jpeg decoder, in step with Go.
#
#   ./resync.sh          re-apply upstream.patch to the image/jpeg files of
#                        the toolchain's Go (`go env GOROOT`), take the
#                        result as the fork's files, record the release in
#                        UPSTREAM, refresh the patch and run the tests.
#   ./resync.sh diff     after changing the fork: rewrite upstream.patch as
#                        the diff from the recorded release's files (the
#                        toolchain must be that release) to the fork's.
#
# When a hunk no longer applies (upstream changed the same lines), nothing
# in the package is touched: the script leaves the patched copy and the
# .rej files in a temporary directory, says where, and exits 1. Merge the
# rejected hunks there by hand, copy the files in, then run `./resync.sh
# diff` with the new toolchain to record the merge.
set -euo pipefail
cd "$(dirname "$0")"

files=(reader.go scan.go huffman.go dct.go)
goroot=$(go env GOROOT)
toolchain=$(head -n 1 "$goroot/VERSION")
recorded=$(sed -n 's/^release: //p' UPSTREAM)
upstream=$goroot/src/image/jpeg

die() { echo "resync: $*" >&2; exit 1; }
[ -d "$upstream" ] || die "no $upstream: this Go installation has no sources"

makepatch() {
	local f
	for f in "${files[@]}"; do
		diff -u --label "a/$f" --label "b/$f" "$upstream/$f" "$f" || [ $? -eq 1 ]
	done >upstream.patch
}

case "${1:-sync}" in
diff)
	[ "$toolchain" = "$recorded" ] ||
		die "the toolchain is $toolchain but UPSTREAM records $recorded: the patch must be made against $recorded's files (run ./resync.sh first to move to $toolchain)"
	makepatch
	echo "resync: wrote upstream.patch ($(grep -c '^@@' upstream.patch) hunks against $recorded)"
	;;
sync)
	work=$(mktemp -d)
	for f in "${files[@]}"; do cp "$upstream/$f" "$work/$f"; done
	if ! (cd "$work" && patch -p1 --forward --no-backup-if-mismatch <"$OLDPWD/upstream.patch"); then
		die "upstream.patch does not apply to $toolchain's image/jpeg: see the .rej files in $work, merge them into the files there, copy them here and run ./resync.sh diff"
	fi
	for f in "${files[@]}"; do cp "$work/$f" "$f"; done
	rm -rf "$work"
	sed -i "s/^release: .*/release: $toolchain/" UPSTREAM
	makepatch
	gofmt -l . | grep . && die "gofmt wants to change the files above"
	go vet . && go test -count=1 .
	echo "resync: jpegdec now follows $toolchain (was $recorded); review and commit the package"
	;;
*)
	die "usage: $0 [sync|diff]"
	;;
esac
