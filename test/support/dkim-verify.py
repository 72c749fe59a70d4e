# Verifies every DKIM-Signature of the message on stdin with dkimpy, looking keys up on the DNS
# server given as argv[1] (host:port). Prints one line per signature: "<index> <d=> <s=> pass|fail".
import sys

import dkim
import dns.resolver

host, port = sys.argv[1].rsplit(":", 1)
resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = [host]
resolver.port = int(port)


def txt(name, timeout=5):
    answer = resolver.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
    return b"".join(b"".join(record.strings) for record in answer)


message = sys.stdin.buffer.read()
verifier = dkim.DKIM(message)
count = sum(1 for name, _ in verifier.headers if name.lower() == b"dkim-signature")
for index in range(count):
    try:
        ok = verifier.verify(idx=index, dnsfunc=txt)
    except dkim.DKIMException:
        ok = False
    print(index, verifier.domain.decode(), verifier.selector.decode(), "pass" if ok else "fail")
