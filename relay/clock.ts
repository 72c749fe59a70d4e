// The relay's one clock type: milliseconds since the epoch, passed in (Date.now in main.ts, a
// fixed or stepped function in tests) so that no decision reads the time by itself.
export type Clock = () => number;
