import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommandLine } from '../../../kubectl-plugin/args.ts';

test('parseCommandLine: each command with its options and the global flags', () => {
  const cases: [string[], unknown][] = [
    [['status'], { name: 'status', allNamespaces: false }],
    [['status', '-A'], { name: 'status', allNamespaces: true }],
    [
      ['-n', 'mail', 'queue', 'list', 'outbound', '--status', 'deferred', '--older-than', '60', '-o', 'json'],
      {
        name: 'queue-list',
        relay: 'outbound',
        pod: undefined,
        json: true,
        filters: { status: 'deferred', olderThan: '60' },
      },
    ],
    [['queue', 'retry', 'outbound', '--all'], { name: 'queue-retry', relay: 'outbound', queueId: undefined }],
    [['queue', 'retry', 'outbound', 'Q1'], { name: 'queue-retry', relay: 'outbound', queueId: 'Q1' }],
    [['queue', 'delete', 'outbound', 'Q1'], { name: 'queue-delete', relay: 'outbound', queueId: 'Q1' }],
    [
      ['queue', 'drain', 'outbound', '--pod', 'outbound-1', '--deadline', '60'],
      { name: 'queue-drain', relay: 'outbound', pod: 'outbound-1', deadlineSeconds: '60' },
    ],
    [['dns', 'records', 'example-com'], { name: 'dns-records', senderDomain: 'example-com' }],
    [
      ['dns', 'check', 'example-com', '--dns-server', '127.0.0.1:5353'],
      { name: 'dns-check', senderDomain: 'example-com', dnsServer: '127.0.0.1:5353' },
    ],
    [['--help'], { name: 'help' }],
  ];
  for (const [argv, command] of cases) {
    const parsed = parseCommandLine(argv);
    assert.ok(parsed.ok, argv.join(' '));
    assert.deepEqual(parsed.command, command, argv.join(' '));
  }
  const parsed = parseCommandLine(['--context', 'prod', '--kubeconfig', '/k', '-n', 'mail', 'status']);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.target, { namespace: 'mail', context: 'prod', kubeconfig: '/k' });
});

test('parseCommandLine: every mistake is named', () => {
  const cases: [string[], RegExp][] = [
    [[], /a command is required/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['queue'], /queue needs a subcommand/],
    [['queue', 'list'], /queue list needs an SmtpRelay name/],
    [['dns', 'check'], /dns check needs a SenderDomain name/],
    [['queue', 'purge', 'outbound'], /unknown queue subcommand "purge"/],
    [['dns', 'publish', 'd'], /unknown dns subcommand "publish"/],
    [['queue', 'retry', 'outbound'], /a queue id or --all/],
    [['queue', 'retry', 'outbound', 'Q1', '--all'], /a queue id or --all \(not both\)/],
    [['queue', 'delete', 'outbound'], /queue delete needs a queue id/],
    [['queue', 'delete', 'outbound', 'Q1', 'Q2'], /unexpected argument "Q2"/],
    [
      ['queue', 'drain', 'outbound', '--deadline', 'soon'],
      /--deadline must be a whole number of seconds, got "soon"/,
    ],
    [['queue', 'list', 'outbound', '-o', 'yaml'], /--output must be table or json, got "yaml"/],
    [['dns', 'records', 'd', '--pod', 'p'], /--pod does not apply to dns records/],
    [['status', '-A', '-n', 'mail'], /exclude each other/],
    [['status', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [argv, problem] of cases) {
    const parsed = parseCommandLine(argv);
    assert.match('problem' in parsed ? parsed.problem : 'accepted', problem, argv.join(' '));
  }
});
