import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  configPath,
  containerPortFor,
  httpPort,
  queueAdminPort,
  queueDir,
  relaySecretsDir,
  tlsDir,
  usersDir,
} from '../../../operator/render/relay-paths.ts';

test('container ports: privileged Service ports move to unprivileged ones', () => {
  const cases: [number, number][] = [
    [25, 2525],
    [587, 5587],
    [465, 4465],
    [2525, 2525],
    [1024, 1024],
    [1023, 11023],
    [26, 10026],
    [1, 10001],
    [8025, 8025],
    [65535, 65535],
  ];
  for (const [servicePort, expected] of cases) {
    assert.equal(containerPortFor(servicePort), expected, `Service port ${servicePort}`);
  }
});

test('container ports never collide with the HTTP and queue admin ports for the usual listeners', () => {
  const smtpPorts = [25, 587, 465].map(containerPortFor);
  assert.ok(!smtpPorts.includes(httpPort));
  assert.ok(!smtpPorts.includes(queueAdminPort));
});

test('mount paths are absolute and distinct', () => {
  const directories = [tlsDir, usersDir, relaySecretsDir, queueDir, configPath.replace(/\/[^/]+$/, '')];
  for (const directory of directories) assert.match(directory, /^\//);
  assert.equal(new Set(directories).size, directories.length);
});
