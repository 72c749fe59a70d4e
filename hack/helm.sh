#!/usr/bin/env bash
# Prints the path of a Helm binary: built once per machine from the Go module proxy and cached by
# version (Helm's own installer downloads a prebuilt binary, which this project does not rely on).
set -euo pipefail
version=4.3.1
dir="${MAILFLEET_CACHE:-$HOME/.cache/mailfleet}/bin/helm-$version"
if [[ ! -x "$dir/helm" ]]; then
  source "$(dirname "$0")/build-lock.sh"
  lock_cache_dir "$dir"
fi
# Checked again under the lock: another run may have built it while this one waited.
if [[ ! -x "$dir/helm" ]]; then
  command -v go >/dev/null || { echo "helm.sh: Go is required to build Helm (none on PATH)" >&2; exit 1; }
  echo "building helm v$version into $dir (first run on this machine only)" >&2
  GOBIN="$dir" CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=v$version" \
    "helm.sh/helm/v4/cmd/helm@v$version" >&2
fi
echo "$dir/helm"
