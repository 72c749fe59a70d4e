#!/usr/bin/env bash
# Builds the real control plane the tests run against (kube-apiserver, kube-controller-manager,
# kubectl, etcd) from the Go module proxy, once per machine, cached by version. Prints the
# directory that holds the binaries. KUBEBUILDER_ASSETS, when it already holds kube-apiserver and
# etcd, is used as it is.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
module_version() { grep -oE "$1 v[0-9]+\.[0-9]+\.[0-9]+" "$2" | head -1 | sed "s/.* v//"; }
k8s_version=$(module_version 'k8s.io/kubernetes' "$here/kube/go.mod")
etcd_version=$(module_version 'go.etcd.io/etcd/server/v3' "$here/etcd/go.mod")
[[ -n $k8s_version && -n $etcd_version ]] || { echo "build.sh: cannot read the pinned versions from the go.mod files" >&2; exit 1; }

if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/kube-apiserver" && -x "$KUBEBUILDER_ASSETS/etcd" ]]; then
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

cache="${MAILFLEET_CACHE:-$HOME/.cache/mailfleet}/bin/k8s-$k8s_version-etcd-$etcd_version"
want=(kube-apiserver kube-controller-manager kubectl etcd)
built() {
  for b in "${want[@]}"; do [[ -x "$cache/$b" ]] || return 1; done
}
if built; then
  echo "$cache"
  exit 0
fi
source "$here/../../hack/build-lock.sh"
lock_cache_dir "$cache"
# Checked again under the lock: another run may have built them while this one waited.
if built; then
  echo "$cache"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: Go is required to build the control plane (none on PATH)" >&2; exit 1; }
tmp=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
source "$here/version-stamp.sh"
echo "building kube-apiserver, kube-controller-manager, kubectl v$k8s_version and etcd v$etcd_version into $cache (first run on this machine only)" >&2
(cd "$here/kube" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $(version_stamp "$k8s_version")" -o "$tmp/" ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kubectl) >&2
(cd "$here/etcd" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" .) >&2
mv "$tmp"/* "$cache/"
echo "built in $((SECONDS - start)) s" >&2
echo "$cache"
