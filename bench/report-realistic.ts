// The realistic set's section of docs/benchmarks.md (pure): its own run line and goals, so that a
// run of the realistic set alone (BENCH_SCENARIOS=realistic) can replace just this section.
import { realisticGoals } from './goals.ts';
import { bcryptCost, dkimSampleSize } from './realistic.ts';
import type { BenchReport } from './report.ts';
import { fixed, judgedGoalsTable, loadAverages, renderScenario } from './report.ts';

export const realisticBegin =
  '<!-- realistic set: begin (BENCH_SCENARIOS=realistic make bench rewrites only this section) -->';
export const realisticEnd = '<!-- realistic set: end -->';

export function renderRealisticSection(report: BenchReport): string[] {
  const results = report.scenarios.filter((result) => result.scenario.security !== undefined);
  if (results.length === 0) return [];
  const { machine, plan } = report;
  return [
    realisticBegin,
    '',
    '## As users run it: STARTTLS, AUTH and DKIM',
    '',
    `Run${plan.quick ? ' (QUICK smoke run: small counts, one repetition — not for comparison)' : ''}: \`${report.command}\` at ${machine.commit}, started ${report.startedAt}, took ${fixed(report.durationSeconds / 60, 1)} min, load average ${loadAverages(machine.loadAverageAtStart)} → ${loadAverages(report.loadAverageAtEnd)} on ${machine.processors} processors. Each figure is the median of ${plan.realisticRepeats} run(s); the ceiling, Postfix and mailfleet are measured in turn within each repetition, so ratios come from the same run.`,
    '',
    '- Every client connection does STARTTLS (TLS 1.3, or TLS 1.2 where the title says so: the client offers no higher version), verifies the certificate (RSA-2048, the same pair on both relays), says EHLO again and logs in with AUTH PLAIN. "New connection per message" pays the handshake and the login for every message; "connection reused" pays them once per session and sends its share of the messages after them.',
    `- mailfleet: \`requireAuth\` on its listener, the user in its users file as bcrypt at cost ${bcryptCost} (what [TLS and AUTH](tls-and-auth.md) recommends: \`htpasswd -nbBC ${bcryptCost}\`), nobody relaying by address; DKIM keys on each sender domain (relaxed/relaxed): RSA-2048, or RSA-2048 and Ed25519. A login is checked against its bcrypt hash (bcryptjs, in the relay's main thread) once, then remembered for \`auth.loginCacheSeconds\` (its default, 300 s: an HMAC of the password, relay/smtp/login-cache.ts), so the warm-up's first logins pay the bcrypt check and the measured ones compare an HMAC, as Cyrus compares the password sasldb stores; when the 300 s run out during the set, each login that arrives before one of them has renewed the entry pays the check again.`,
    "- Postfix, set up the way Postfix charts turn on SASL and DKIM: `smtpd_tls_security_level = may`, `smtpd_tls_auth_only = yes`, Cyrus SASL (`smtpd_sasl_type = cyrus`, auxprop `sasldb`: Cyrus keeps the password itself in sasldb, so a login is a comparison, not a hash), `smtpd_relay_restrictions = permit_sasl_authenticated, reject`, and Debian's `opendkim` as its milter (`milter_default_action = tempfail`, relaxed/relaxed). OpenDKIM 2.11 signs with one algorithm per instance, so RSA + Ed25519 is a second Postfix with two milters in a row (one `SignatureAlgorithm rsa-sha256`, one `ed25519-sha256`); the RSA-only scenarios go through the RSA milter alone. The milters' CPU and memory are counted with Postfix's.",
    `- Neither side does less: in every run ${dkimSampleSize} messages spread over what the sink received (smtp-sink \`-d\` dumps each one) are verified by dkimpy (python3-dkim) against the public keys served by a private dnsmasq; a message without every expected signature passing fails the run. The sampled counts are under each table.`,
    "- `BENCH_SCENARIOS=realistic make bench` runs this set alone and rewrites only this section of the file (`BENCH_OUTPUT=<file>` writes the whole report elsewhere instead); `BENCH_QUICK=1 BENCH_SCENARIOS=realistic make bench` is its smoke run (small counts, one repetition). The full `make bench` runs it after the plaintext scenarios. It needs Debian's `sasl2-bin`, `libsasl2-modules`, `opendkim`, `python3-dkim` and `dnsmasq` (`make system-deps`).",
    '- The ceiling is the same Node clients against smtp-server with the same certificate, accepting any login and dropping the body: what this machine moves through that load generator. Where a relay comes near it, the generator, not the relay, is the limit.',
    '',
    '### Goals of the realistic set',
    '',
    ...judgedGoalsTable(report, realisticGoals),
    '',
    ...results.flatMap(renderScenario),
    realisticEnd,
    '',
  ];
}

/** docs/benchmarks.md with its realistic section replaced by `section` (or put before "## Memory" when it has none). */
export function spliceRealisticSection(document: string, section: string): string {
  const begin = document.indexOf(realisticBegin);
  const end = document.indexOf(realisticEnd);
  if (begin >= 0 && end > begin) {
    return document.slice(0, begin) + section.trimEnd() + document.slice(end + realisticEnd.length);
  }
  const anchor = document.indexOf('\n## Memory with');
  if (anchor < 0) return `${document.trimEnd()}\n\n${section}`;
  return `${document.slice(0, anchor + 1)}${section}\n${document.slice(anchor + 1)}`;
}
