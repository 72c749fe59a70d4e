// Sending through a mailfleet relay from a Node.js application with nodemailer: submission port
// 587, STARTTLS required, SMTP AUTH. Configure it with environment variables:
//   SMTP_HOST (e.g. outbound.mail.svc.cluster.local), SMTP_PORT (587), SMTP_USER, SMTP_PASSWORD,
//   MAIL_FROM (an address of a SenderDomain the user may send for), MAIL_TO,
//   SMTP_CA_FILE (optional: the CA that signed the relay's certificate, when it is not public).
// Run: node examples/clients/send-with-nodemailer.mjs
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`set ${name}`);
  return value;
};

const transport = nodemailer.createTransport({
  host: env('SMTP_HOST'),
  port: Number(env('SMTP_PORT', '587')),
  secure: false, // port 587 starts in plaintext and upgrades with STARTTLS...
  requireTLS: true, // ...which must succeed before AUTH: never send credentials in the clear
  auth: { user: env('SMTP_USER'), pass: env('SMTP_PASSWORD') },
  tls: {
    servername: process.env.SMTP_TLS_SERVERNAME ?? env('SMTP_HOST'),
    ...(process.env.SMTP_CA_FILE ? { ca: readFileSync(process.env.SMTP_CA_FILE) } : {}),
  },
});

const info = await transport.sendMail({
  from: env('MAIL_FROM'),
  to: env('MAIL_TO'),
  subject: 'Hello through mailfleet',
  text: 'Sent with nodemailer through the relay.',
});
// The relay answers 250 only once the message is on disk; the reply names its queue id.
console.log(`accepted: ${info.accepted.join(', ')}; relay said: ${info.response}`);
