import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queueRequest } from '../../../relay/admin/cli.ts';
import { routeAdminRequest } from '../../../relay/admin/routes.ts';

const id = '0amwrljrr6e3b5cbe8c0';

test('routeAdminRequest maps methods and paths, and refuses what is not a queue id', () => {
  const table: readonly [string, string, unknown][] = [
    ['GET', '/queue', { action: 'list', filter: {} }],
    [
      'GET',
      '/queue?sender=a&recipient=b&status=deferred&olderThanSeconds=60',
      { action: 'list', filter: { sender: 'a', recipient: 'b', status: 'deferred', olderThanMs: 60_000 } },
    ],
    ['GET', `/queue/${id}`, { action: 'show', queueId: id }],
    ['DELETE', `/queue/${id}`, { action: 'delete', queueId: id }],
    ['POST', `/queue/${id}/retry`, { action: 'retry', queueId: id }],
    ['POST', '/queue/retry', { action: 'retry-all' }],
    ['POST', '/drain?deadlineSeconds=5', { action: 'drain', deadlineSeconds: 5 }],
    [
      'GET',
      '/queue/..%2F..%2Fetc',
      { action: 'error', status: 400, message: '"..%2F..%2Fetc" is not a queue id' },
    ],
    [
      'GET',
      '/queue?status=bounced',
      { action: 'error', status: 400, message: 'status must be pending or deferred, got "bounced"' },
    ],
    ['GET', '/drain', { action: 'error', status: 405, message: 'drain needs POST' }],
    ['PUT', `/queue/${id}`, { action: 'error', status: 405, message: `PUT /queue/${id} is not supported` }],
    ['GET', '/metrics', { action: 'error', status: 404, message: 'no route /metrics' }],
  ];
  for (const [method, url, expected] of table)
    assert.deepEqual(routeAdminRequest(method, url), expected, `${method} ${url}`);
});

test('queueRequest turns CLI arguments into admin requests or a problem', () => {
  const table: readonly [string[], unknown][] = [
    [['list'], { method: 'GET', path: '/queue' }],
    [
      ['list', '--status', 'deferred', '--older-than', '60'],
      { method: 'GET', path: '/queue?status=deferred&olderThanSeconds=60' },
    ],
    [['show', id], { method: 'GET', path: `/queue/${id}` }],
    [['retry', '--all'], { method: 'POST', path: '/queue/retry' }],
    [['retry', id], { method: 'POST', path: `/queue/${id}/retry` }],
    [['delete', id], { method: 'DELETE', path: `/queue/${id}` }],
    [['drain', '--deadline', '10'], { method: 'POST', path: '/drain?deadlineSeconds=10' }],
    [['show'], { problem: 'show needs a queue id' }],
    [['list', '--sender'], { problem: '--sender needs a value' }],
    [['frobnicate'], { problem: 'unknown command "frobnicate"' }],
    [[], { problem: 'a command is required' }],
  ];
  for (const [argv, expected] of table) assert.deepEqual(queueRequest(argv), expected, argv.join(' '));
});
