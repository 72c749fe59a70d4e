import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postfixMainCf, postfixMasterCf } from '../../../bench/postfix-config.ts';
import { smtpSourceArguments } from '../../../bench/smtp-source.ts';

const settings = {
  directory: '/tmp/pf',
  listenPort: 2525,
  nextHopPort: 2626,
  holdEverything: false,
  maxSessions: 1100,
};

function parameters(mainCf: string): Map<string, string> {
  return new Map(
    mainCf
      .split('\n')
      .flatMap((line) => (line.includes(' = ') ? [line.split(' = ', 2) as [string, string]] : [])),
  );
}

test('the reference Postfix relays from loopback to the sink, with no DNS, TLS or durability changes', () => {
  const main = parameters(postfixMainCf(settings));
  const expected: [string, string][] = [
    ['inet_interfaces', '127.0.0.1'],
    ['mynetworks', '127.0.0.0/8'],
    ['relayhost', '[127.0.0.1]:2626'],
    ['smtp_tls_security_level', 'none'],
    ['smtp_dns_support_level', 'disabled'],
    ['queue_directory', '/tmp/pf/queue'],
  ];
  for (const [name, value] of expected) assert.equal(main.get(name), value, name);
  for (const name of ['in_flow_delay', 'smtpd_recipient_restrictions'])
    assert.equal(main.has(name), false, `${name} left at its default`);
});

test('the backlog Postfix holds every message and does not pace smtpd', () => {
  const main = parameters(postfixMainCf({ ...settings, holdEverything: true }));
  assert.equal(main.get('smtpd_recipient_restrictions'), 'check_client_access static:HOLD');
  assert.equal(main.get('in_flow_delay'), '0');
});

test('master.cf listens on the loopback port only and chroots nothing', () => {
  const services = postfixMasterCf(settings)
    .trim()
    .split('\n')
    .map((line) => line.split(' '));
  assert.deepEqual(services[0], ['127.0.0.1:2525', 'inet', 'n', '-', 'n', '-', '1100', 'smtpd']);
  assert.equal(services.filter((fields) => fields[1] === 'inet').length, 1);
  assert.ok(services.every((fields) => fields[4] === 'n'));
});

test('smtp-source arguments follow the load', () => {
  const cases = [
    { reuse: false, expected: ['-4', '-s', '20', '-m', '100', '-l', '2048'] },
    { reuse: true, expected: ['-4', '-d', '-s', '20', '-m', '100', '-l', '2048'] },
  ];
  for (const { reuse, expected } of cases) {
    const args = smtpSourceArguments(
      { sessions: 20, messages: 100, payloadBytes: 2048, reuseConnections: reuse },
      2525,
    );
    assert.deepEqual(args.slice(0, expected.length), expected);
    assert.equal(args.at(-1), '127.0.0.1:2525');
  }
});
