// Discovery of the optional kinds against a scripted apiserver: served, absent (404), remembered for
// the TTL, and a failed discovery keeps what was known instead of reporting the kinds gone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeApiError, type ApiRequest } from '../../../operator/kube/client.ts';
import { silentLog } from '../../../operator/log.ts';
import { ServedKinds } from '../../../operator/reconcile/served-kinds.ts';
import { optionalRelayResources } from '../../../operator/render/relay-resources.ts';
import { FakeClock } from '../operator-kube/fake-clock.ts';

type Answer = { resources: { name: string }[] } | number;

function scripted(answers: Record<string, Answer>) {
  const paths: string[] = [];
  const client = {
    request<T>(request: ApiRequest): Promise<T> {
      paths.push(request.path);
      const answer = answers[request.path];
      if (answer === undefined || typeof answer === 'number') {
        return Promise.reject(
          new KubeApiError('get', request.path, typeof answer === 'number' ? answer : 404, {}),
        );
      }
      return Promise.resolve(answer as T);
    },
  };
  return { client, paths };
}

const monitoring = { resources: [{ name: 'servicemonitors' }, { name: 'prometheusrules' }] };

test('served kinds come from discovery; an absent group is not served', async () => {
  const { client } = scripted({ '/apis/monitoring.coreos.com/v1': monitoring });
  const kinds = new ServedKinds({
    client,
    clock: new FakeClock(),
    log: silentLog(),
    kinds: optionalRelayResources,
    ttlMs: 1000,
  });
  assert.deepEqual([...(await kinds.served())].sort(), [
    'prometheusrules.monitoring.coreos.com',
    'servicemonitors.monitoring.coreos.com',
  ]);
});

test('discovery is remembered for the TTL, then asked again', async () => {
  const answers: Record<string, Answer> = {};
  const { client, paths } = scripted(answers);
  const clock = new FakeClock();
  const kinds = new ServedKinds({
    client,
    clock,
    log: silentLog(),
    kinds: optionalRelayResources,
    ttlMs: 1000,
  });
  assert.equal((await kinds.served()).size, 0);
  const asked = paths.length;
  answers['/apis/cert-manager.io/v1'] = { resources: [{ name: 'certificates' }] };
  await clock.advance(999);
  assert.equal((await kinds.served()).size, 0);
  assert.equal(paths.length, asked);
  await clock.advance(1);
  assert.deepEqual([...(await kinds.served())], ['certificates.cert-manager.io']);
});

test('a failed discovery keeps what was known (objects are not deleted on a blip)', async () => {
  const answers: Record<string, Answer> = { '/apis/monitoring.coreos.com/v1': monitoring };
  const { client } = scripted(answers);
  const clock = new FakeClock();
  const kinds = new ServedKinds({
    client,
    clock,
    log: silentLog(),
    kinds: optionalRelayResources,
    ttlMs: 10,
  });
  assert.equal((await kinds.served()).size, 2);
  answers['/apis/monitoring.coreos.com/v1'] = 503;
  await clock.advance(10);
  assert.equal((await kinds.served()).size, 2);
  answers['/apis/monitoring.coreos.com/v1'] = 404;
  await clock.advance(10);
  assert.equal((await kinds.served()).size, 0);
});
