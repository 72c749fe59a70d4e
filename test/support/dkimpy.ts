// dkimpy (Debian's python3-dkim), the independent DKIM verifier of the tests and the demo: verifies
// every DKIM-Signature of a message against the TXT records of the DNS server given (`host:port`).
// Resolves with one line per signature: "<index> <d=> <s=> pass|fail".
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const verifierScript = join(import.meta.dirname, 'dkim-verify.py');

export function verifyWithDkimpy(message: string, dnsServer: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('/usr/bin/python3', [verifierScript, dnsServer], (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}: ${stderr}`));
      else resolve(stdout);
    });
    child.stdin?.end(message);
  });
}
