import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import {
  localiseQueueCommand,
  localiseRelayConfig,
  localPath,
  localPeers,
  portsToBind,
} from '../../kubelet/pod-config.ts';
import { volumeFiles } from '../../kubelet/volumes.ts';

const mounts = [
  { mountPath: '/etc/mailfleet/config', localDir: '/w/pod-0/config' },
  { mountPath: '/etc/mailfleet', localDir: '/w/pod-0/etc' },
  { mountPath: '/var/spool/mailfleet', localDir: '/w/pv/queue-pod-0' },
];

for (const [podPath, expected] of [
  ['/etc/mailfleet/config/relay.yaml', '/w/pod-0/config/relay.yaml'],
  ['/etc/mailfleet/tls/tls.crt', '/w/pod-0/etc/tls/tls.crt'],
  ['/var/spool/mailfleet', '/w/pv/queue-pod-0'],
  ['/var/spool/mailfleetx', '/var/spool/mailfleetx'],
  ['/usr/lib/x', '/usr/lib/x'],
] as const) {
  test(`localPath: ${podPath} → ${expected} (longest mount wins, whole path components only)`, () => {
    assert.equal(localPath(podPath, mounts), expected);
  });
}

const localisation = {
  mounts,
  self: {
    ports: new Map([
      [2525, 40001],
      [9090, 40002],
      [8026, 40003],
    ]),
  },
  peers: new Map([
    ['out-1', { ports: new Map([[2525, 41001]]) }],
    ['out-2', { ports: new Map([[2525, 42001]]) }],
  ]),
};

test('drain peers: a pod name maps to that pod, the Service to every peer', () => {
  assert.deepEqual(localPeers(['out-1.out-peers.mail.svc.cluster.local:2525'], localisation), [
    '127.0.0.1:41001',
  ]);
  assert.deepEqual(localPeers(['out-peers.mail.svc:2525'], localisation), [
    '127.0.0.1:41001',
    '127.0.0.1:42001',
  ]);
  assert.throws(
    () => localPeers(['out-1.out-peers:9999'], localisation),
    /container port 9999 is not declared/,
  );
});

test('the relay config: paths, listener, http and admin ports, peers translated; the rest unchanged', () => {
  const text = [
    'hostname: out.mail.svc',
    'listeners: [{ name: smtp, port: 2525, mode: relay }]',
    'tls: { certificates: [{ certFile: /etc/mailfleet/tls/tls.crt, keyFile: /etc/mailfleet/tls/tls.key }] }',
    'http: { port: 9090 }',
    'queue: { dir: /var/spool/mailfleet, adminPort: 8026 }',
    'delivery: { mode: mx, drainPeers: [out-peers.mail.svc:2525] }',
    'policy: { allowedNetworks: [10.0.0.0/8] }',
  ].join('\n');
  assert.deepEqual(portsToBind(text), [2525, 9090, 8026]);
  assert.deepEqual(parse(localiseRelayConfig(text, localisation)), {
    hostname: 'out.mail.svc',
    listeners: [{ name: 'smtp', port: 40001, mode: 'relay', address: '127.0.0.1' }],
    tls: { certificates: [{ certFile: '/w/pod-0/etc/tls/tls.crt', keyFile: '/w/pod-0/etc/tls/tls.key' }] },
    http: { port: 40002, address: '127.0.0.1' },
    queue: { dir: '/w/pv/queue-pod-0', adminPort: 40003 },
    delivery: { mode: 'mx', drainPeers: ['127.0.0.1:41001', '127.0.0.1:42001'] },
    policy: { allowedNetworks: ['10.0.0.0/8'] },
  });
});

test('volumes: ConfigMap text, Secret base64, items chosen, missing objects and keys named', () => {
  const secret = { data: { 'tls.crt': Buffer.from('CERT').toString('base64'), other: 'eA==' } };
  assert.deepEqual(
    volumeFiles({ name: 'config', configMap: { name: 'c' } }, { data: { 'relay.yaml': 'a: 1' } }),
    {
      ok: true,
      files: { 'relay.yaml': Buffer.from('a: 1') },
    },
  );
  assert.deepEqual(
    volumeFiles(
      { name: 'tls', secret: { secretName: 's', items: [{ key: 'tls.crt', path: 'cert.pem' }] } },
      secret,
    ),
    { ok: true, files: { 'cert.pem': Buffer.from('CERT') } },
  );
  assert.deepEqual(volumeFiles({ name: 'tls', secret: { secretName: 's' } }, undefined), {
    ok: false,
    reason: 'secret/s not found',
  });
  assert.deepEqual(
    volumeFiles({ name: 'tls', secret: { secretName: 's', items: [{ key: 'tls.key', path: 'k' }] } }, secret),
    { ok: false, reason: 'secret/s has no key "tls.key"' },
  );
  assert.deepEqual(volumeFiles({ name: 'x', secret: { secretName: 's', optional: true } }, undefined), {
    ok: true,
    files: {},
  });
});

test('localiseQueueCommand: the queue CLI pointed at the pod’s local admin port and token directory', () => {
  const config = JSON.stringify({ queue: { adminPort: 41234, adminTokenDir: '/work/pods/r-0/volumes/tmp' } });
  assert.deepEqual(
    localiseQueueCommand(['mailfleet-relay', 'queue', 'list', '--status', 'deferred'], config),
    [
      'queue',
      '--admin-url',
      'http://127.0.0.1:41234',
      '--admin-token-dir',
      '/work/pods/r-0/volumes/tmp',
      'list',
      '--status',
      'deferred',
    ],
  );
  assert.deepEqual(
    localiseQueueCommand(
      ['mailfleet-relay', 'queue', 'retry', '--all'],
      JSON.stringify({ queue: { adminPort: 1 } }),
    ),
    ['queue', '--admin-url', 'http://127.0.0.1:1', 'retry', '--all'],
  );
  assert.throws(
    () => localiseQueueCommand(['sh', '-c', 'id'], config),
    /execs only "mailfleet-relay queue …"/,
  );
});
