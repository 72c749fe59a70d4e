// The V8 flags the relay runs with wherever it runs as a process: the image's ENTRYPOINT
// (Dockerfile.relay; test/unit/images/dockerfiles.test.ts holds the two equal), the benchmarks, the
// profiler (hack/profile-relay.sh) and the tests that start it as a process (test/support).

/**
 * Semi-spaces of 8 MiB for the young generation, instead of what V8 sizes for the machine (up to
 * 32 MiB on a large one). V8 starts a full mark-compact once the old generation's headroom is
 * smaller than the young generation: with 32 MiB semi-spaces a relay taking 100 KB messages ran one
 * every 70–80 ms, on a heap of 17 MiB, and V8's helper threads spent 0.31–0.38 ms of CPU a message
 * on them; with 8 MiB, half as many and 0.18–0.20 ms (docs/performance.md). 2 KB messages cost the
 * same either way.
 */
export const relayNodeFlags: readonly string[] = ['--max-semi-space-size=8'];
