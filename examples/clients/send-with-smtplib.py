#!/usr/bin/env python3
"""Send through a mailfleet relay from Python with the pod's ServiceAccount token, no password.

smtplib has no OAUTHBEARER of its own, but its SMTP.auth() runs any SASL mechanism given a
function that builds the client's message: here RFC 7628 OAUTHBEARER (or XOAUTH2), the bearer
being the projected token the kubelet writes and rotates. The token file is read at each
connection, never cached. STARTTLS comes first: the relay offers AUTH only inside TLS.

Environment: SMTP_HOST (e.g. outbound.mail.svc.cluster.local), SMTP_PORT (587),
TOKEN_FILE (/var/run/secrets/mailfleet/token), MAIL_FROM (an address of a SenderDomain that
grants this ServiceAccount), MAIL_TO, SMTP_CA_FILE (optional: the CA of the relay's
certificate when it is not public), SMTP_AUTH_MECHANISM (OAUTHBEARER, or XOAUTH2).
Run: python3 examples/clients/send-with-smtplib.py
"""
import os
import smtplib
import ssl
import sys
from email.message import EmailMessage
from email.policy import SMTP as smtp_policy


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        sys.exit(f"set {name}")
    return value


host = env("SMTP_HOST")
port = int(env("SMTP_PORT", "587"))
token_file = env("TOKEN_FILE", "/var/run/secrets/mailfleet/token")
mechanism = env("SMTP_AUTH_MECHANISM", "OAUTHBEARER").upper()


def bearer_message(challenge=None):
    # A refused token is answered with an error challenge (334 + JSON, RFC 7628 3.2.3); the
    # client's reply is a single ^A, after which the relay sends its final 535.
    if challenge is not None:
        return "\x01"
    with open(token_file, encoding="ascii") as file:
        token = file.read().strip()
    if mechanism == "XOAUTH2":
        # XOAUTH2 needs a user= field; the relay takes the identity from the token, not from it.
        return f"user=serviceaccount\x01auth=Bearer {token}\x01\x01"
    return f"n,,\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"


message = EmailMessage()
message["From"] = env("MAIL_FROM")
message["To"] = env("MAIL_TO")
message["Subject"] = "Hello through mailfleet"
message.set_content("Sent with Python's smtplib and a ServiceAccount token.")

context = ssl.create_default_context(cafile=os.environ.get("SMTP_CA_FILE"))
try:
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.starttls(context=context)
        smtp.ehlo()  # again inside TLS, where the relay offers AUTH (auth() does not)
        smtp.auth(mechanism, bearer_message, initial_response_ok=True)
        code, reply = smtp.mail(message["From"])
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, message["From"])
        code, reply = smtp.rcpt(message["To"])
        if code not in (250, 251):
            raise smtplib.SMTPResponseException(code, reply)
        # The relay answers 250 only once the message is on disk; the reply names its queue id.
        code, reply = smtp.data(message.as_bytes(policy=smtp_policy))  # CRLF line endings
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        print(f"sent with {mechanism}; relay said: {code} {reply.decode()}")
except smtplib.SMTPResponseException as error:
    print(f"refused: {error.smtp_code} {error.smtp_error.decode(errors='replace')}", file=sys.stderr)
    sys.exit(1)
