#!/usr/bin/env bash
# Where the relay's time goes for one load (`make profile`): Postfix's smtp-source drives the relay
# (bench/mailfleet-config.ts, the benchmark's own settings) delivering to smtp-sink, all on loopback.
# Prints the end-to-end rate, the relay's CPU per message by thread (main, V8 helpers, libuv pool,
# DKIM signing), user and system, and how idle the machine stayed. Options, as environment variables:
#   PROFILE_BYTES=2048 PROFILE_MESSAGES=3000 PROFILE_SESSIONS=20  the load (smtp-source -l -m -s)
#   PROFILE_REUSE=1          reuse connections (smtp-source -d)
#   PROFILE_WARMUP=3000      messages of the same load sent first and not measured (the JIT compiles
#                            the hot paths, as in a relay that has been running); 0 measures from cold
#   PROFILE_RECEIVE_ONLY=1   the next hop never greets: the relay only receives (what delivery costs
#                            is the difference)
#   PROFILE_COMMIT_DELAY_MS=5  the relay's queue.commitDelayMs (the default when unset)
#   PROFILE_DKIM=rsa-sha256  sign every message (or ed25519-sha256) with a key made for the run
#   PROFILE_SYSCALLS=1       count the relay's system calls per message (strace -c -f; slows it)
#   PROFILE_CPU_PROF=<dir>   write a V8 CPU profile of the relay there (node --cpu-prof), sampled every
#                            PROFILE_CPU_PROF_INTERVAL microseconds (1000)
#   PROFILE_NODE_FLAGS="--trace-gc"  more flags for the relay's node (its output goes to the relay log,
#                            PROFILE_KEEP=1 keeps it)
#   PROFILE_FLOOR=raw        measure hack/floor-server.ts instead of the relay, receiving only: a
#                            hand-written SMTP responder on node:net (raw) or smtp-server with the
#                            relay's connection class and hooks that accept everything (smtp-server)
# Only processes this script starts are stopped, by their process ids.
set -euo pipefail
cd "$(dirname "$0")/.."
bytes=${PROFILE_BYTES:-2048}
messages=${PROFILE_MESSAGES:-3000}
sessions=${PROFILE_SESSIONS:-20}
work=$(mktemp -d /tmp/mailfleet-profile-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ ${PROFILE_KEEP:-} == 1 ]]; then echo "kept: $work (relay.log)" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
wait_for_port() {
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}
sink_port=$(free_port)
relay_port=$(free_port)
metrics_port=$(free_port)
if [[ ${PROFILE_RECEIVE_ONLY:-} == 1 ]]; then
  node -e "require('net').createServer(() => {}).listen($sink_port, '127.0.0.1')" &
else
  privileges=()
  [[ $(id -u) == 0 ]] && privileges=(-u nobody)
  /usr/sbin/smtp-sink -c "${privileges[@]}" -m 2000 "127.0.0.1:$sink_port" 2048 >"$work/sink.out" 2>&1 &
fi
pids+=($!)
wait_for_port "$sink_port"
# The relay reloads on any change in its config's directory: relay.log must not be in it.
mkdir "$work/spool" "$work/config"
case ${PROFILE_DKIM:-} in
  '') ;;
  rsa-sha256) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/dkim.pem" 2>/dev/null ;;
  ed25519-sha256) openssl genpkey -algorithm ED25519 -out "$work/dkim.pem" ;;
  *) echo "PROFILE_DKIM=$PROFILE_DKIM: expected rsa-sha256 or ed25519-sha256" >&2; exit 2 ;;
esac
COMMIT_DELAY=${PROFILE_COMMIT_DELAY_MS:-} STALLED=${PROFILE_RECEIVE_ONLY:-0} DKIM=${PROFILE_DKIM:-} KEY="$work/dkim.pem" node --input-type=module -e "
  import { mailfleetBenchConfig } from './bench/mailfleet-config.ts';
  const settings = { port: $relay_port, nextHopPort: $sink_port, spoolDirectory: '$work/spool', stalledDelivery: process.env.STALLED === '1' };
  const config = { ...mailfleetBenchConfig(settings), http: { address: '127.0.0.1', port: $metrics_port } };
  if (process.env.COMMIT_DELAY) config.queue = { ...config.queue, commitDelayMs: Number(process.env.COMMIT_DELAY) };
  if (process.env.DKIM) {
    const dkim = [{ selector: 'profile', algorithm: process.env.DKIM, privateKeyFile: process.env.KEY }];
    config.policy = { ...config.policy, senderDomains: [{ domain: 'source.profile.example', dkim }] };
  }
  process.stdout.write(JSON.stringify(config));
" >"$work/config/relay.json"
# The relay's own V8 flags (relay/runtime-flags.ts, what the image runs with), then PROFILE_NODE_FLAGS.
read -r -a node_flags < <(node --input-type=module -e "
  import { relayNodeFlags } from './relay/runtime-flags.ts';
  console.log(relayNodeFlags.join(' '));
")
# shellcheck disable=SC2206 # PROFILE_NODE_FLAGS is a list of flags, split on spaces.
node_flags+=(${PROFILE_NODE_FLAGS:-})
[[ -n ${PROFILE_CPU_PROF:-} ]] && node_flags+=(--cpu-prof "--cpu-prof-dir=$PROFILE_CPU_PROF" "--cpu-prof-interval=${PROFILE_CPU_PROF_INTERVAL:-1000}")
case ${PROFILE_FLOOR:-} in
  '') node "${node_flags[@]}" relay/main.ts --config "$work/config/relay.json" >"$work/relay.log" 2>&1 & ;;
  raw | smtp-server)
    PROFILE_RECEIVE_ONLY=1
    node "${node_flags[@]}" hack/floor-server.ts "$PROFILE_FLOOR" "$relay_port" >"$work/relay.log" 2>&1 &
    ;;
  *) echo "PROFILE_FLOOR=$PROFILE_FLOOR: expected raw or smtp-server" >&2; exit 2 ;;
esac
relay=$!
pids+=("$relay")
wait_for_port "$relay_port"
threads() {
  for task in /proc/"$relay"/task/*; do
    read -r -a stat <"$task/stat" || continue
    # comm may hold spaces: count fields from the end (utime is field 14 of 52).
    local count=${#stat[@]}
    echo "${task##*/} $(tr ' ' '_' <"$task/comm") ${stat[count - 39]} ${stat[count - 38]}"
  done
}
# busy: user nice system irq softirq steal; idle: idle iowait.
machine() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; }
reuse=()
[[ ${PROFILE_REUSE:-} == 1 ]] && reuse=(-d)
load() {
  /usr/sbin/smtp-source -4 "${reuse[@]}" -s "$sessions" -m "$1" -l "$bytes" -N -M source.profile.example \
    -f sender@source.profile.example -t rcpt@sink.profile.example "127.0.0.1:$relay_port"
}
# Waits until the sink has counted this many messages (every one, when the relay delivers at all).
sink_reached() {
  [[ ${PROFILE_RECEIVE_ONLY:-} == 1 ]] && return 0
  for _ in $(seq 600); do
    grep -q "mesg=$1\b" <(tr '\r' '\n' <"$work/sink.out") && return 0
    sleep 0.05
  done
}
warmup=${PROFILE_WARMUP:-3000}
if ((warmup > 0)); then
  load "$warmup"
  sink_reached "$warmup"
else
  warmup=0
fi
if [[ ${PROFILE_SYSCALLS:-} == 1 ]]; then
  strace -c -f -p "$relay" -o "$work/strace.txt" &
  strace_pid=$!
  pids+=("$strace_pid")
  sleep 1
fi
signatures() {
  node -e "fetch('http://127.0.0.1:$metrics_port/metrics').then((r) => r.text()).then((t) => console.log((t.match(/^mailfleet_relay_dkim_signatures_total\{[^}]*result=\"signed\"[^}]*\} (\d+)/m) ?? [])[1] ?? 0))"
}
[[ -n ${PROFILE_DKIM:-} ]] && signed_before=$(signatures)
# Group-commit rounds (one fdatasync each) of the relay's segment log; none for a floor server.
commits() {
  [[ -n ${PROFILE_FLOOR:-} ]] && { echo 0; return; }
  node -e "fetch('http://127.0.0.1:$metrics_port/metrics').then((r) => r.text()).then((t) => console.log((t.match(/^mailfleet_relay_queue_segment_syncs_total (\d+)/m) ?? [])[1] ?? 0))"
}
commits_before=$(commits)
threads >"$work/before"
read -r busy_before idle_before < <(machine)
started=$(date +%s%N)
load "$messages"
sent=$(date +%s%N)
sink_reached $((warmup + messages))
finished=$(date +%s%N)
read -r busy_after idle_after < <(machine)
threads >"$work/after"
commits_after=$(commits)
[[ -z ${PROFILE_FLOOR:-} ]] && echo "spool group commits (fdatasync rounds) per message: $(awk -v c=$((commits_after - commits_before)) -v m="$messages" 'BEGIN { printf "%.2f", c / m }')"
if [[ -n ${PROFILE_DKIM:-} ]]; then
  echo "DKIM signatures made: $(($(signatures) - signed_before))"
fi
if [[ ${PROFILE_SYSCALLS:-} == 1 ]]; then
  kill -INT "$strace_pid"
  wait "$strace_pid" 2>/dev/null || true
fi
kill -INT "$relay"
wait "$relay" 2>/dev/null || true
awk -v messages="$messages" -v bytes="$bytes" -v sessions="$sessions" -v receiveOnly="${PROFILE_RECEIVE_ONLY:-0}" \
  -v send_ns=$((sent - started)) -v total_ns=$((finished - started)) \
  -v busy=$((busy_after - busy_before)) -v idle=$((idle_after - idle_before)) '
  FNR == NR { u0[$1] = $3; s0[$1] = $4; next }
  {
    key = $1; name = $2
    group = name ~ /^V8/ ? "V8 helper threads (GC, compiler)" : name ~ /^libuv/ ? "libuv thread pool (fsync)" : name ~ /^dkim-signer/ ? "DKIM signing threads" : name ~ /^node$|MainThread/ ? "main thread" : "other threads"
    u[group] += ($3 - u0[key]) * 10; s[group] += ($4 - s0[key]) * 10
  }
  END {
    if (receiveOnly == 1) printf "%d messages of %d bytes from %d sessions: accepted in %.2f s (%.0f msg/s), none delivered (receive only)\n", messages, bytes, sessions, send_ns / 1e9, messages / (send_ns / 1e9)
    else printf "%d messages of %d bytes from %d sessions: accepted in %.2f s, delivered end to end in %.2f s (%.0f msg/s)\n", messages, bytes, sessions, send_ns / 1e9, total_ns / 1e9, messages / (total_ns / 1e9)
    printf "relay CPU per message (ms):\n"
    for (group in u) if (u[group] + s[group] > 0) { printf "  %-34s user %.3f  system %.3f\n", group, u[group] / messages, s[group] / messages; tu += u[group]; ts += s[group] }
    printf "  %-34s user %.3f  system %.3f  (total %.3f)\n", "all threads", tu / messages, ts / messages, (tu + ts) / messages
    printf "machine (every process, %s jiffies): %.0f%% idle during the run\n", "/proc/stat", 100 * idle / (busy + idle)
  }' "$work/before" "$work/after"
if [[ ${PROFILE_SYSCALLS:-} == 1 ]]; then
  echo "relay system calls per message (strace -c -f):"
  awk -v messages="$messages" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" { printf "  %-16s %6.2f\n", $NF, $4 / messages }' "$work/strace.txt" | sort -k2 -nr | head -15
fi
