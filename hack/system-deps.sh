#!/usr/bin/env bash
# Installs the Debian packages the tests use as real peers (Postfix and its smtp-source/smtp-sink,
# Cyrus SASL and OpenDKIM for the realistic benchmark,
# swaks, msmtp, openssl, testssl.sh, dnsmasq, BIND 9, an independent DKIM verifier, promtool, the argon2 reference CLI, htpasswd),
# and what the real test node runs on (containerd, runc, the CNI plugins, buildah, skopeo, mmdebstrap). Only what is missing is
# installed; apt-get update runs only when something is.
set -euo pipefail
declare -A wanted=(
  [smtp-source]=postfix
  [swaks]=swaks
  [openssl]=openssl
  [dnsmasq]=dnsmasq
  # BIND 9: the authoritative server external-dns updates over RFC 2136 (with TSIG) in the DNS publishing
  # tests; they run named as their own process on a loopback port, never the system service.
  [named]=bind9
  [dkimverify]=python3-dkim
  [opendkim-testkey]=opendkim-tools
  [promtool]=prometheus
  [ip]=iproute2
  [strace]=strace
  [argon2]=argon2
  [htpasswd]=apache2-utils
  # msmtp sends with a ServiceAccount token (auth oauthbearer), as examples/clients/msmtprc documents.
  [msmtp]=msmtp
  # The realistic benchmark's Postfix (bench/realistic-targets.ts): Cyrus SASL's sasldb (saslpasswd2 and
  # the PLAIN/LOGIN and sasldb plugins) for its AUTH, and the OpenDKIM milter for its signatures.
  [saslpasswd2]=sasl2-bin
  [/usr/lib/x86_64-linux-gnu/sasl2/libplain.so]=libsasl2-modules
  [opendkim]=opendkim
  # fusermount3 unmounts test/lazyfs, the FUSE filesystem the power-loss test cuts the power under.
  [fusermount3]=fuse3
  # GNU patch applies patches/upstream/ to copies of the pinned libraries (test/unit/library-internals/upstream-patches.test.ts).
  [patch]=patch
  # testssl.sh scans the relay's TLS listeners for weak suites and known vulnerabilities (case 33).
  [testssl]=testssl.sh
  # The real node (test/node/): containerd with runc, the CNI bridge, buildah and skopeo for the images,
  # mmdebstrap for the Debian base images, kube-proxy's iptables and conntrack, gcc for the pause image.
  [containerd]=containerd
  [runc]=runc
  [buildah]=buildah
  [skopeo]=skopeo
  [mmdebstrap]=mmdebstrap
  [/usr/lib/cni/bridge]=containernetworking-plugins
  [iptables]=iptables
  [conntrack]=conntrack
  [gcc]=gcc
)
# Libraries found by what loads them rather than by a command (swaks does TLS through these).
declare -A wanted_perl=(
  [Net::SSLeay]=libnet-ssleay-perl
  [IO::Socket::SSL]=libio-socket-ssl-perl
)
missing=()
for cmd in "${!wanted[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [[ -x /usr/sbin/$cmd ]] || [[ -x $cmd ]] || [[ $cmd == /*.so && -e $cmd ]] || missing+=("${wanted[$cmd]}")
done
for module in "${!wanted_perl[@]}"; do
  perl -M"$module" -e 1 >/dev/null 2>&1 || missing+=("${wanted_perl[$module]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
sudo=''
[[ $(id -u) -eq 0 ]] || sudo=sudo
echo "installing Debian packages: ${missing[*]}" >&2
# Postfix asks how to configure itself; the tests write their own configuration.
echo 'postfix postfix/main_mailer_type select No configuration' | $sudo debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the services it installs; the tests run their own instances on loopback.
for svc in postfix dnsmasq named prometheus containerd; do
  $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || $sudo service "$svc" stop >/dev/null 2>&1 || true
done
# Not `service opendkim stop` where there is no systemd: its init script stops every opendkim by name,
# the benchmark's own instances included.
$sudo systemctl disable --now opendkim >/dev/null 2>&1 || true
