// The realistic set's plumbing (issue 17): both relays configured for STARTTLS, AUTH and DKIM, the
// OpenDKIM tables, the sink dumps turned back into messages, the plan and the docs section splice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageOfDump, spread } from '../../../bench/dkim-sample.ts';
import { mailfleetBenchConfig } from '../../../bench/mailfleet-config.ts';
import { openDkimTables } from '../../../bench/opendkim.ts';
import { cyrusSmtpdConf, postfixMainCf, postfixMasterCf } from '../../../bench/postfix-config.ts';
import { realisticScenarios } from '../../../bench/realistic.ts';
import { realisticBegin, realisticEnd, spliceRealisticSection } from '../../../bench/report-realistic.ts';
import { benchPlan, focusPlan } from '../../../bench/scenarios.ts';

const keys = { rsa: '/k/rsa.pem', ed25519: '/k/ed.pem' };

test('the realistic Postfix offers STARTTLS, relays only for SASL users and signs through the milters in order', () => {
  const settings = {
    directory: '/tmp/pf',
    listenPort: 2525,
    nextHopPort: 2626,
    holdEverything: false,
    maxSessions: 1100,
    security: {
      certFile: '/c.pem',
      keyFile: '/k.pem',
      saslConfigDirectory: '/tmp/pf/etc/sasl',
      milterPorts: [7001, 7002],
    },
  };
  const main = postfixMainCf(settings);
  for (const line of [
    'smtpd_tls_security_level = may',
    'smtpd_tls_auth_only = yes',
    'smtpd_sasl_auth_enable = yes',
    'smtpd_sasl_type = cyrus',
    'smtpd_relay_restrictions = permit_sasl_authenticated, reject',
    'smtpd_milters = inet:127.0.0.1:7001, inet:127.0.0.1:7002',
    'milter_default_action = tempfail',
  ]) {
    assert.ok(main.split('\n').includes(line), line);
  }
  assert.doesNotMatch(main, /permit_mynetworks/);
  assert.match(postfixMasterCf(settings), /^tlsmgr unix /m);
  const plain = {
    directory: settings.directory,
    listenPort: settings.listenPort,
    nextHopPort: settings.nextHopPort,
    holdEverything: false,
    maxSessions: 1100,
  };
  assert.match(postfixMainCf(plain), /^smtpd_tls_security_level = none$/m);
  assert.doesNotMatch(postfixMasterCf(plain), /tlsmgr/);
  assert.equal(
    cyrusSmtpdConf('/f/sasldb2'),
    'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: /f/sasldb2\n',
  );
});

test('the realistic mailfleet requires AUTH, serves the certificate and signs each sender domain with its keys', () => {
  const config = mailfleetBenchConfig({
    port: 2525,
    nextHopPort: 2626,
    spoolDirectory: '/spool',
    stalledDelivery: false,
    security: { certFile: '/c.pem', keyFile: '/k.pem', usersFile: '/users', dkim: keys },
  });
  assert.deepEqual(config['listeners'], [
    { name: 'bench', address: '127.0.0.1', port: 2525, mode: 'relay', requireAuth: true },
  ]);
  assert.deepEqual(config['tls'], { certificates: [{ certFile: '/c.pem', keyFile: '/k.pem' }] });
  assert.deepEqual(config['auth'], { usersFile: '/users' });
  const policy = config['policy'] as {
    allowedNetworks: string[];
    senderDomains: { domain: string; dkim: { algorithm: string }[] }[];
  };
  assert.deepEqual(policy.allowedNetworks, []);
  assert.deepEqual(
    policy.senderDomains.map((domain) => [domain.domain, domain.dkim.map((key) => key.algorithm)]),
    [
      ['rsa.sender.example', ['rsa-sha256']],
      ['dual.sender.example', ['rsa-sha256', 'ed25519-sha256']],
    ],
  );
});

test('one OpenDKIM per algorithm: the RSA one signs both domains, the Ed25519 one only the dual domain', () => {
  assert.deepEqual(openDkimTables(keys, 'rsa'), {
    keyTable:
      'rsa.sender.example-rsa rsa.sender.example:rsa2048:/k/rsa.pem\ndual.sender.example-rsa dual.sender.example:rsa2048:/k/rsa.pem\n',
    signingTable:
      '*@rsa.sender.example rsa.sender.example-rsa\n*@dual.sender.example dual.sender.example-rsa\n',
  });
  assert.deepEqual(openDkimTables(keys, 'ed25519'), {
    keyTable: 'dual.sender.example-ed25519 dual.sender.example:ed25519:/k/ed.pem\n',
    signingTable: '*@dual.sender.example dual.sender.example-ed25519\n',
  });
});

test("an smtp-sink dump becomes the relay's message again: the sink's records and Received dropped, CRLF restored", () => {
  const dump = [
    'X-Client-Addr: 127.0.0.1',
    'X-Client-Proto: ESMTP',
    'X-Mail-Args: <a@b.example>',
    'Received: from relay ([127.0.0.1])',
    '\tby sink (smtp-sink)',
    '\twith ESMTP id 1;',
    'DKIM-Signature: v=1; a=rsa-sha256;',
    '\tb=abc',
    'Received: by relay',
    'From: <a@b.example>',
    '',
    'body',
    '',
  ].join('\n');
  assert.equal(
    messageOfDump(dump),
    'DKIM-Signature: v=1; a=rsa-sha256;\r\n\tb=abc\r\nReceived: by relay\r\nFrom: <a@b.example>\r\n\r\nbody\r\n',
  );
  assert.deepEqual(spread([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5), [1, 3, 5, 7, 9]);
  assert.deepEqual(spread([1, 2], 5), [1, 2]);
});

test('BENCH_SCENARIOS=realistic is the whole realistic set, with its own repeats in a full plan', () => {
  const full = benchPlan(false);
  const focused = focusPlan(full, ['realistic'], undefined);
  assert.deepEqual(
    focused.scenarios.map((scenario) => scenario.id),
    realisticScenarios.map((scenario) => scenario.id),
  );
  assert.ok(
    focused.scenarios.every((scenario) => scenario.driver === 'clients' && scenario.security !== undefined),
  );
  assert.equal(focusPlan(full, ['realistic'], 2).realisticRepeats, 2);
  assert.ok(benchPlan(true).scenarios.every((scenario) => scenario.messages >= 10));
});

test('a realistic-only run replaces its own section of docs/benchmarks.md and nothing else', () => {
  const section = `${realisticBegin}\nnew\n${realisticEnd}\n`;
  const document = `# Benchmarks\n\n## Goals\n\n${realisticBegin}\nold\n${realisticEnd}\n\n## Memory with 1000\n\nidle\n`;
  assert.equal(
    spliceRealisticSection(document, section),
    `# Benchmarks\n\n## Goals\n\n${realisticBegin}\nnew\n${realisticEnd}\n\n## Memory with 1000\n\nidle\n`,
  );
  assert.equal(
    spliceRealisticSection('# Benchmarks\n\n## Memory with 1000\n\nidle\n', section),
    `# Benchmarks\n\n${section}\n## Memory with 1000\n\nidle\n`,
  );
});
