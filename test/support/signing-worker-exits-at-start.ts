// A stand-in for relay/dkim/signing-worker.ts that dies before any request (the signing pool's
// test of a thread that cannot start).
process.exit(3);
