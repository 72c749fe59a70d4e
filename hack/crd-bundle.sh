#!/usr/bin/env bash
# Writes every CRD of crds/ into one multi-document YAML stream, each document starting with `---`:
# the release asset crds.yaml (`kubectl apply --server-side -f crds.yaml`). Concatenated without the
# separators the files would be one document, and all but one CRD would be lost.
# Usage: hack/crd-bundle.sh <output file>
set -euo pipefail
out=${1:?usage: hack/crd-bundle.sh <output file>}
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
crds=("$root"/crds/*.yaml)
((${#crds[@]} > 0)) || { echo "crd-bundle.sh: no CRDs in $root/crds" >&2; exit 1; }
for crd in "${crds[@]}"; do
  echo '---'
  cat "$crd"
  # A file without a final newline would glue the next separator to its last line.
  [[ -z $(tail -c1 "$crd") ]] || echo
done >"$out"
