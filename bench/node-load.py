# The load generator of `make bench-node` (bench/node-scaling.ts), run inside the load pod. The pod's
# other container is Postfix's smtp-sink (the relay's next hop, behind the Service `sink`), whose
# running counter goes to /shared/sink.out; this script sends with Postfix's smtp-source through the
# relay's Service and waits until the sink has counted every message, so both ends are timed by one
# clock. Usage: node-load.py <relay host> <port> <messages> <sessions> <bytes> <reuse: 0|1> <timeout s>
# Prints one JSON object: messages, sendSeconds (smtp-source's run), deliveredSeconds (until the sink
# counted them all), delivered (what the sink counted), smtpSourceExit and smtpSourceErrors.
import json
import re
import socket
import subprocess
import sys
import time

host, port, messages, sessions, size, reuse, timeout = sys.argv[1:8]
messages = int(messages)
counter = re.compile(rb"mesg=(\d+)")


def sink_count():
    """The sink's last running count (it rewrites one line with \\r after each message)."""
    with open("/shared/sink.out", "rb") as out:
        out.seek(0, 2)
        out.seek(max(0, out.tell() - 256))
        found = counter.findall(out.read())
    return int(found[-1]) if found else 0


before = sink_count()
# smtp-source takes an address; the Service's cluster IP is resolved once, as a client would.
address = socket.gethostbyname(host)
command = ["/usr/sbin/smtp-source", "-4", "-s", sessions, "-m", str(messages), "-l", size]
command += ["-M", "load.bench.example", "-f", "load@load.bench.example", "-t", "sink@sink.bench.example"]
if reuse == "1":
    command.append("-d")
started = time.monotonic()
source = subprocess.run([*command, f"{address}:{port}"], capture_output=True, text=True)
sent = time.monotonic()
deadline = started + float(timeout)
count = sink_count()
while count < before + messages and time.monotonic() < deadline:
    time.sleep(0.02)
    count = sink_count()
finished = time.monotonic()
print(
    json.dumps(
        {
            "messages": messages,
            "sendSeconds": sent - started,
            "deliveredSeconds": finished - started,
            "delivered": count - before,
            "smtpSourceExit": source.returncode,
            "smtpSourceErrors": source.stderr.strip().splitlines()[:5],
        }
    )
)
