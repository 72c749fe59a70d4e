#!/usr/bin/env bash
# Builds kube-apiserver of the oldest Kubernetes mailfleet supports (test/controlplane/kube-1.31/)
# from the Go module proxy, once per machine, cached by version; prints the directory that holds it.
# The tests run it with the etcd of build.sh. The same recipe as build.sh, for one binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
k8s_version=$(grep -oE 'k8s.io/kubernetes v[0-9]+\.[0-9]+\.[0-9]+' "$here/kube-1.31/go.mod" | head -1 | sed 's/.* v//')
[[ -n $k8s_version ]] || { echo "build-oldest-apiserver.sh: cannot read the pinned version from kube-1.31/go.mod" >&2; exit 1; }

cache="${MAILFLEET_CACHE:-$HOME/.cache/mailfleet}/bin/kube-apiserver-$k8s_version"
if [[ -x "$cache/kube-apiserver" ]]; then
  echo "$cache"
  exit 0
fi

command -v go >/dev/null || { echo "build-oldest-apiserver.sh: Go is required to build kube-apiserver (none on PATH)" >&2; exit 1; }
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
minor=$(echo "$k8s_version" | cut -d. -f2)
pkg=k8s.io/component-base/version
stamp="-X $pkg.gitVersion=v$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
echo "building kube-apiserver v$k8s_version into $cache (first run on this machine only)" >&2
(cd "$here/kube-1.31" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $stamp" -o "$tmp/" ./cmd/kube-apiserver) >&2
mv "$tmp/kube-apiserver" "$cache/"
echo "built in $((SECONDS - start)) s" >&2
echo "$cache"
