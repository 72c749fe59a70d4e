// Sending through a mailfleet relay from Node.js with the pod's ServiceAccount token, no password:
// nodemailer's OAuth2 auth sends it as SASL XOAUTH2, inside STARTTLS on the submission port.
// The kubelet rewrites the projected token file before the token expires, so the file is read
// for each message (a transport per message), never kept. Environment:
//   SMTP_HOST (e.g. outbound.mail.svc.cluster.local), SMTP_PORT (587),
//   TOKEN_FILE (/var/run/secrets/mailfleet/token, the projected volume's path),
//   MAIL_FROM (an address of a SenderDomain that grants this ServiceAccount), MAIL_TO,
//   SMTP_CA_FILE (optional: the CA that signed the relay's certificate, when it is not public).
// Run: node examples/clients/send-with-nodemailer-token.mjs
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`set ${name}`);
  return value;
};

function transport() {
  return nodemailer.createTransport({
    host: env('SMTP_HOST'),
    port: Number(env('SMTP_PORT', '587')),
    secure: false, // port 587 starts in plaintext and upgrades with STARTTLS...
    requireTLS: true, // ...which must succeed before AUTH: the relay offers AUTH only inside TLS
    auth: {
      type: 'OAuth2',
      // XOAUTH2 needs a user name; the relay takes the identity from the token, not from it.
      user: 'serviceaccount',
      accessToken: readFileSync(env('TOKEN_FILE', '/var/run/secrets/mailfleet/token'), 'utf8').trim(),
    },
    tls: {
      servername: process.env.SMTP_TLS_SERVERNAME ?? env('SMTP_HOST'),
      ...(process.env.SMTP_CA_FILE ? { ca: readFileSync(process.env.SMTP_CA_FILE) } : {}),
    },
  });
}

const info = await transport().sendMail({
  from: env('MAIL_FROM'),
  to: env('MAIL_TO'),
  subject: 'Hello through mailfleet',
  text: 'Sent with nodemailer and a ServiceAccount token.',
});
// The relay answers 250 only once the message is on disk; the reply names its queue id.
console.log(`accepted: ${info.accepted.join(', ')}; relay said: ${info.response}`);
