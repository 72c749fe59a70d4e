#!/usr/bin/env bash
# Copies the generated CRDs (crds/*.yaml) into the Helm chart's crds/ directory, which must hold
# exact copies (test/unit/chart/crds.test.ts fails when they differ). Run by `make generate`.
set -euo pipefail
cd "$(dirname "$0")/.."
target=charts/mailfleet/crds
mkdir -p "$target"
find "$target" -maxdepth 1 -name '*.yaml' -delete
shopt -s nullglob
for crd in crds/*.yaml; do
  cp "$crd" "$target/"
done
