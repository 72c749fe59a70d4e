// The informer's list+watch loop against a scripted API: failures back off exponentially up to the
// cap and never stop the loop; a 410 relists at once; a relist emits deletes for objects that went
// away while the watch was down.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeApiError, type ApiRequest, type KubeClient } from '../../../operator/kube/client.ts';
import { Informer } from '../../../operator/kube/informer.ts';
import { coreResources, type KubeObject } from '../../../operator/kube/resource.ts';
import { silentLog } from '../../../operator/log.ts';
import { FakeClock } from './fake-clock.ts';

type Answer = { list: KubeObject[]; resourceVersion: string } | { watch: string[] } | { fail: number };

/** Answers list and watch requests from a script, recording when each arrived on the fake clock. */
function scriptedApi(clock: FakeClock, script: Answer[]) {
  const calls: { verb: string; at: number; resourceVersion: string | undefined }[] = [];
  const next = (request: ApiRequest): Answer => {
    calls.push({ verb: request.verb, at: clock.now(), resourceVersion: request.query?.['resourceVersion'] });
    return script.shift() ?? { fail: 503 };
  };
  const api: Pick<KubeClient, 'request' | 'stream'> = {
    request<T>(request: ApiRequest): Promise<T> {
      const answer = next(request);
      if ('fail' in answer)
        return Promise.reject(new KubeApiError(request.verb, request.path, answer.fail, {}));
      assert.ok('list' in answer, `a list was answered with ${JSON.stringify(answer)}`);
      return Promise.resolve({
        metadata: { resourceVersion: answer.resourceVersion },
        items: answer.list,
      } as T);
    },
    stream(request: ApiRequest): Promise<ReadableStream<Uint8Array>> {
      const answer = next(request);
      if ('fail' in answer)
        return Promise.reject(new KubeApiError(request.verb, request.path, answer.fail, {}));
      assert.ok('watch' in answer, `a watch was answered with ${JSON.stringify(answer)}`);
      const bytes = new TextEncoder().encode(answer.watch.map((line) => `${line}\n`).join(''));
      return Promise.resolve(
        new ReadableStream({
          start(controller) {
            controller.enqueue(bytes);
            controller.close();
          },
        }),
      );
    },
  };
  return { api, calls };
}

const configMap = (name: string, resourceVersion: string): KubeObject => ({
  metadata: { namespace: 'ns', name, resourceVersion },
});

test('failing watches back off exponentially to the cap; the loop keeps going', async () => {
  const clock = new FakeClock();
  const script: Answer[] = [{ list: [configMap('a', '1')], resourceVersion: '1' }];
  for (let attempt = 0; attempt < 6; attempt += 1) script.push({ fail: 503 });
  script.push({ watch: [JSON.stringify({ type: 'ADDED', object: configMap('b', '2') })] });
  const { api, calls } = scriptedApi(clock, script);
  const informer = new Informer({
    client: api,
    resource: coreResources.configMap,
    clock,
    log: silentLog(),
    backoff: { baseMs: 100, capMs: 1_000 },
  });
  informer.start();
  await clock.advance(10_000);
  await informer.stop();
  const watches = calls.filter((call) => call.verb === 'watch').map((call) => call.at);
  const gaps = watches.slice(1).map((at, index) => at - (watches[index] ?? 0));
  assert.deepEqual(gaps.slice(0, 6), [100, 200, 400, 800, 1_000, 1_000]);
  assert.ok(informer.store.get('ns/b'), 'the watch that finally worked delivered its event');
  assert.equal(
    calls.filter((call) => call.verb === 'list').length,
    1,
    'failures other than 410 do not relist',
  );
});

test('a 410 relists at once and the relist reports what went away meanwhile', async () => {
  const clock = new FakeClock();
  const { api, calls } = scriptedApi(clock, [
    { list: [configMap('stays', '1'), configMap('goes', '1')], resourceVersion: '5' },
    { watch: [JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })] },
    { list: [configMap('stays', '7'), configMap('new', '8')], resourceVersion: '9' },
    { fail: 410 },
    { list: [configMap('stays', '7'), configMap('new', '8')], resourceVersion: '12' },
  ]);
  const informer = new Informer({ client: api, resource: coreResources.configMap, clock, log: silentLog() });
  const seen: string[] = [];
  informer.addHandlers({
    added: (object) => seen.push(`added ${object.metadata?.name ?? ''}`),
    updated: (_previous, current) => seen.push(`updated ${current.metadata?.name ?? ''}`),
    deleted: (object) => seen.push(`deleted ${object.metadata?.name ?? ''}`),
  });
  informer.start();
  await clock.advance(0);
  await informer.stop();
  assert.deepEqual(
    calls.slice(0, 5).map((call) => `${call.verb}@${call.at} rv=${call.resourceVersion ?? ''}`),
    ['list@0 rv=', 'watch@0 rv=5', 'list@0 rv=', 'watch@0 rv=9', 'list@0 rv='],
  );
  assert.deepEqual(seen, ['added stays', 'added goes', 'deleted goes', 'updated stays', 'added new']);
  assert.deepEqual(informer.store.keys().sort(), ['ns/new', 'ns/stays']);
});
