// Reads a watch response: one JSON event a line. The stream is abandoned (and the caller told why)
// when no byte arrives for `inactivityMs`, because a half-open TCP connection never ends by itself.
import type { Clock } from './clock.ts';
import type { KubeObject } from './resource.ts';

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: KubeObject;
}

export class WatchInactiveError extends Error {
  constructor(inactivityMs: number) {
    super(`the watch sent nothing for ${inactivityMs} ms`);
    this.name = 'WatchInactiveError';
  }
}

/** Calls `onEvent` for each event until the stream ends; rejects on a stream error or inactivity. */
export async function readWatchEvents(
  stream: ReadableStream<Uint8Array>,
  onEvent: (event: WatchEvent) => void,
  options: { readonly clock: Clock; readonly inactivityMs: number },
): Promise<void> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  try {
    await readLines(reader, onEvent, options);
  } finally {
    // Releases the connection whether the stream ended, failed or a handler threw.
    await reader.cancel().catch(() => undefined);
  }
}

async function readLines(
  reader: ReadableStreamDefaultReader<string>,
  onEvent: (event: WatchEvent) => void,
  options: { readonly clock: Clock; readonly inactivityMs: number },
): Promise<void> {
  let buffered = '';
  for (;;) {
    const inactivity = { expired: false };
    const timer = options.clock.setTimer(() => {
      inactivity.expired = true;
      void reader.cancel();
    }, options.inactivityMs);
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } finally {
      timer.cancel();
    }
    if (inactivity.expired) throw new WatchInactiveError(options.inactivityMs);
    if (chunk.done) return;
    buffered += chunk.value;
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line !== '') onEvent(JSON.parse(line) as WatchEvent);
      newline = buffered.indexOf('\n');
    }
  }
}
