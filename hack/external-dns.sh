#!/usr/bin/env bash
# Prints the path of an external-dns binary: built once per machine from the Go module proxy and
# cached by version, like hack/helm.sh (the tests run it as a local process with its RFC 2136
# provider against a BIND 9 on loopback). With `crd` it prints the DNSEndpoint CRD of the same
# module instead (the tests install it from external-dns's own source).
#
# v0.23.0 needs Go 1.27 (its go.mod says `go 1.27.0`) and v0.22.0 depends on module versions the
# proxy does not serve (exoscale/egoscale v3.1.44, a 2026-08 openshift/api); v0.21.0 builds with Go 1.26.
#
# One fix is applied to the module source before building, hack/external-dns-rfc2136-txt.patch (the
# same code is in v0.22.0 and v0.23.0): the rfc2136 provider reads a TXT record back as its bare
# strings, without the quotes it writes them with, so a record holding spaces or ";" (every SPF,
# DKIM and DMARC record) is rewritten on every sync and can never be deleted — an old DKIM selector
# would stay in DNS for ever. The patch reads it back in the quoted form it writes. It is meant for
# upstream; the cache directory name carries it so an unpatched build is never taken for this one.
# MAILFLEET_EXTERNAL_DNS_UNPATCHED=1 builds (and prints) the release as it is instead, to see the bug:
# the rotation test then fails waiting for the old selector to leave DNS.
set -euo pipefail
version=0.21.0
module=sigs.k8s.io/external-dns
here="$(cd "$(dirname "$0")" && pwd)"
patch_file="$here/external-dns-rfc2136-txt.patch"
patch_id=$(sha256sum "$patch_file" | cut -c1-12)
[[ ${MAILFLEET_EXTERNAL_DNS_UNPATCHED:-} == 1 ]] && patch_id=unpatched
dir="${MAILFLEET_CACHE:-$HOME/.cache/mailfleet}/bin/external-dns-$version-$patch_id"
built() { [[ -x "$dir/external-dns" && -f "$dir/dnsendpoints.externaldns.k8s.io.yaml" ]]; }
if ! built; then
  source "$here/build-lock.sh"
  lock_cache_dir "$dir"
fi
# Checked again under the lock: another run may have built it while this one waited.
if ! built; then
  command -v go >/dev/null || { echo "external-dns.sh: Go is required to build external-dns (none on PATH)" >&2; exit 1; }
  echo "building external-dns v$version ($patch_id) into $dir (first run on this machine only)" >&2
  source_dir=$(go mod download -json "$module@v$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  work=$(mktemp -d)
  trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
  cp -r "$source_dir/." "$work/"
  chmod -R u+w "$work"
  [[ $patch_id == unpatched ]] || patch -d "$work" -p1 --quiet <"$patch_file"
  (cd "$work" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X $module/pkg/apis/externaldns.Version=v$version-mailfleet.$patch_id" \
    -o "$dir/external-dns" .) >&2
  cp "$source_dir/config/crd/standard/dnsendpoints.externaldns.k8s.io.yaml" "$dir/"
fi
if [[ ${1:-} == crd ]]; then echo "$dir/dnsendpoints.externaldns.k8s.io.yaml"; else echo "$dir/external-dns"; fi
