// The ceiling of the realistic set: the lightest server that does what the load generator asks —
// smtp-server with STARTTLS (the relays' certificate) and AUTH PLAIN that accepts anyone, the body
// read and dropped, nothing stored or relayed. Prints `mesg=<count>` after each message, as smtp-sink -c.
// Usage: node bench/tls-ceiling-server.ts <port> <cert file> <key file>. Runs until SIGTERM.
import { readFileSync } from 'node:fs';
import { SMTPServer } from 'smtp-server';

const [portText, certFile, keyFile] = process.argv.slice(2);
if (portText === undefined || certFile === undefined || keyFile === undefined) {
  process.stderr.write('usage: node bench/tls-ceiling-server.ts <port> <cert file> <key file>\n');
  process.exit(2);
}

let messages = 0;
const server = new SMTPServer({
  logger: false,
  disableReverseLookup: true,
  cert: readFileSync(certFile),
  key: readFileSync(keyFile),
  authMethods: ['PLAIN'],
  onAuth(auth, _session, callback) {
    callback(null, { user: auth.username });
  },
  onData(stream, _session, callback) {
    stream.resume();
    stream.on('end', () => {
      messages += 1;
      process.stdout.write(`mesg=${messages}\n`);
      callback(null);
    });
  },
});
server.listen(Number(portText), '127.0.0.1');
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
