# A steady SMTP load from a client pod, for the real-node tests: one message per connection to the
# server given, each with a unique X-E2e-Seq header "<run>-<n>", for the seconds given. Prints one JSON
# object: the sequence numbers the server accepted with 250 and the replies it refused the others with.
# A message counts as accepted only when the reply to the final dot was 250.
import json
import smtplib
import sys
import time

server, port, run_id, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
pause = float(sys.argv[5]) if len(sys.argv) > 5 else 0.05
accepted, refused = [], {}
deadline = time.monotonic() + seconds
n = 0
while time.monotonic() < deadline:
    n += 1
    message = (
        f"From: app@demo.example\r\nTo: load@dest.example\r\nSubject: load {n}\r\n"
        f"X-E2e-Seq: {run_id}-{n}\r\n\r\nmessage {n} of run {run_id}\r\n"
    )
    try:
        smtp = smtplib.SMTP(server, port, timeout=20)
        try:
            smtp.sendmail("app@demo.example", ["load@dest.example"], message)
            # Accepted at the 250 to the final dot, whatever happens to QUIT after it.
            accepted.append(n)
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
    except smtplib.SMTPResponseException as error:
        key = str(error.smtp_code)
        refused[key] = refused.get(key, 0) + 1
    except (OSError, smtplib.SMTPException) as error:
        key = type(error).__name__
        refused[key] = refused.get(key, 0) + 1
    time.sleep(pause)
print(json.dumps({"sent": n, "accepted": accepted, "refused": refused}))
