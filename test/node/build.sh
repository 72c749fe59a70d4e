#!/usr/bin/env bash
# Builds the real test node's programs from the Go module proxy, once per machine, cached by version:
# kubelet, kube-scheduler and kube-proxy from the same k8s.io/kubernetes module (and go.mod) as the
# control plane's kube-apiserver; CoreDNS (cluster DNS); rancher's local-path-provisioner (the default
# StorageClass); crictl (the CRI client that tears pod sandboxes down). containerd, runc and the CNI
# plugins come from Debian (test/node/system-deps.sh). Prints the directory that holds the binaries.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kube="$here/../controlplane/kube"
k8s_version=$(grep -oE 'k8s.io/kubernetes v[0-9.]+' "$kube/go.mod" | head -1 | sed 's/.* v//')
coredns_version=1.15.0
local_path_version=0.0.30
crictl_version=1.34.0
cache="${MAILFLEET_CACHE:-$HOME/.cache/mailfleet}/bin/node-k8s-$k8s_version-coredns-$coredns_version-lpp-$local_path_version-crictl-$crictl_version"
want=(kubelet kube-scheduler kube-proxy coredns local-path-provisioner crictl)
missing=()
for b in "${want[@]}"; do [[ -x "$cache/$b" ]] || missing+=("$b"); done
if [[ ${#missing[@]} == 0 ]]; then
  echo "$cache"
  exit 0
fi

command -v go >/dev/null || { echo "node/build.sh: Go is required to build the node (none on PATH)" >&2; exit 1; }
source "$here/../controlplane/version-stamp.sh"
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
echo "building ${missing[*]} into $cache (first run on this machine only)" >&2
for b in "${missing[@]}"; do
  case $b in
    kubelet | kube-scheduler | kube-proxy)
      (cd "$kube" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $(version_stamp "$k8s_version")" -o "$tmp/$b" "./cmd/$b") >&2 ;;
    coredns)
      GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@v$coredns_version" >&2 ;;
    local-path-provisioner)
      GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "github.com/rancher/local-path-provisioner@v$local_path_version" >&2 ;;
    crictl)
      GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/cri-tools/cmd/crictl@v$crictl_version" >&2 ;;
  esac
done
mv "$tmp"/* "$cache/"
echo "built in $((SECONDS - start)) s" >&2
echo "$cache"
