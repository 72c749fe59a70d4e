#!/usr/bin/env bash
# Builds lazyfs (the power-loss test's FUSE filesystem, main.go) from the Go module proxy, once per
# machine and source version: the binary is cached under ~/.cache/mailfleet/bin/ by a digest of its
# sources. Prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
digest=$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" | sha256sum | cut -c1-16)
cache="${MAILFLEET_CACHE:-$HOME/.cache/mailfleet}/bin/lazyfs-$digest"
if [[ -x "$cache/lazyfs" ]]; then
  echo "$cache/lazyfs"
  exit 0
fi
source "$here/../../hack/build-lock.sh"
lock_cache_dir "$cache"
# Checked again under the lock: another run may have built it while this one waited.
if [[ -x "$cache/lazyfs" ]]; then
  echo "$cache/lazyfs"
  exit 0
fi
command -v go >/dev/null || { echo "lazyfs/build.sh: Go is required to build lazyfs (none on PATH)" >&2; exit 1; }
tmp=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
(cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/lazyfs" .) >&2
mv "$tmp/lazyfs" "$cache/lazyfs"
echo "built lazyfs in $((SECONDS - start)) s" >&2
echo "$cache/lazyfs"
