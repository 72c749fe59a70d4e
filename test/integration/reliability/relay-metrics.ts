// Reads a relay process's /metrics and /readyz, for tests that wait on the queue or readiness.
export async function queuedMessages(httpPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const value = /^mailfleet_relay_queue_messages (\d+)/m.exec(text)?.[1];
  if (value === undefined) throw new Error('mailfleet_relay_queue_messages missing from /metrics');
  return Number(value);
}

export async function readyStatus(httpPort: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status;
}

/** Polls `check` every 100 ms until it returns true; fails with `what` after timeoutMs. */
export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
