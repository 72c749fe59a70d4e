# Sourced by the scripts that build a tool once per machine (hack/helm.sh, test/controlplane/*.sh,
# test/lazyfs/build.sh). Test files run concurrently and each may find the cache cold: the first
# takes the lock of the cache directory and builds, the others wait on it and then find the result,
# so there is one Go build, not one per test file. flock(1) is util-linux, on every Debian.

# lock_cache_dir <dir>: creates <dir> and holds an exclusive lock on <dir>/.lock until the script exits.
lock_cache_dir() {
  mkdir -p "$1"
  exec {cache_lock_fd}>"$1/.lock"
  flock "$cache_lock_fd"
}
