# Sourced by the build scripts: the -ldflags that stamp a Kubernetes binary with its release version,
# as Kubernetes' own build does (without them it reports v0.0.0-master, and a node says so too).
version_stamp() {
  local version=$1 minor pkg=k8s.io/component-base/version client=k8s.io/client-go/pkg/version
  minor=$(echo "$version" | cut -d. -f2)
  echo "-X $pkg.gitVersion=v$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" \
    "-X $client.gitVersion=v$version -X $client.gitMajor=1 -X $client.gitMinor=$minor -X $client.gitTreeState=clean"
}
