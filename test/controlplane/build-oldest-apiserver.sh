#!/usr/bin/env bash
# Builds kube-apiserver of the oldest Kubernetes mailfleet supports (test/controlplane/kube-1.31/)
# from the Go module proxy, once per machine, cached by version; prints the directory that holds it.
# The tests run it with the etcd of build.sh. Cold: about 4 minutes on 2 cores (the Kubernetes 1.31
# dependencies compiled once more); cached: nothing to do.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
k8s_version=$(grep -oE 'k8s.io/kubernetes v[0-9]+\.[0-9]+\.[0-9]+' "$here/kube-1.31/go.mod" | head -1 | sed 's/.* v//')
[[ -n $k8s_version ]] || { echo "build-oldest-apiserver.sh: cannot read the pinned version from kube-1.31/go.mod" >&2; exit 1; }
cache="${MAILFLEET_CACHE:-$HOME/.cache/mailfleet}/bin/kube-apiserver-$k8s_version"
binary="$cache/kube-apiserver"

if [[ ! -x $binary ]]; then
  source "$here/../../hack/build-lock.sh"
  lock_cache_dir "$cache"
fi
# Checked again under the lock: another run may have built it while this one waited.
if [[ ! -x $binary ]]; then
  command -v go >/dev/null || { echo "build-oldest-apiserver.sh: Go is required to build kube-apiserver (none on PATH)" >&2; exit 1; }
  source "$here/version-stamp.sh"
  echo "building kube-apiserver v$k8s_version into $cache (first run on this machine only)" >&2
  start=$SECONDS
  # Built beside its final name and renamed: an interrupted build never leaves a binary behind.
  (cd "$here/kube-1.31" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $(version_stamp "$k8s_version")" \
    -o "$binary.partial" ./cmd/kube-apiserver) >&2
  mv "$binary.partial" "$binary"
  echo "built in $((SECONDS - start)) s" >&2
fi
echo "$cache"
