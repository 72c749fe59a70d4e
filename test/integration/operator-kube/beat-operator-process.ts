// The operator's own wiring (startOperator: fence, leader election, controller manager) in its own
// process, with one controller that writes without pause, so a test can catch a write sent by a
// replica that no longer leads. argv: the operator's flags. Each ConfigMap labelled
// mailfleet.dev/beat=source is reconciled by a merge patch of `<name>-beat` (never a conflict, so
// every write the apiserver sees is one the sender meant) naming the writer, every 100 ms in one
// long reconcile: a reconcile running through the hand-over, which stopping the workers does not
// end. It ends when a write fails (a fence refuses it) or the process is told to stop. So a
// replica continued after a pause sends a write at once, whichever of its timers runs first. Each
// write names the time it was decided in its field manager (`beat-<epoch ms>`), which the API
// server's audit log keeps in the request URI.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Controller } from '../../../operator/kube/controller.ts';
import { coreResources, objectPath } from '../../../operator/kube/resource.ts';
import { createLogger } from '../../../operator/log.ts';
import { startOperator, type ControllerTools } from '../../../operator/main.ts';
import { parseOptions } from '../../../operator/options.ts';

const parsed = parseOptions(
  process.argv.slice(2),
  { MAILFLEET_TEST_ONLY_NO_WRITE_FENCE: process.env['MAILFLEET_TEST_ONLY_NO_WRITE_FENCE'] },
  'unnamed',
);
if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
const identity = parsed.options.leaderElection.identity;
let stopping = false;

const beat = (tools: ControllerTools): readonly Controller[] => [
  {
    name: 'beat',
    primary: { resource: coreResources.configMap, labelSelector: 'mailfleet.dev/beat=source' },
    async reconcile(key) {
      const [namespace = '', name = ''] = key.split('/');
      while (!stopping) {
        await tools.client.request({
          verb: 'patch',
          path: objectPath(coreResources.configMap, { namespace, name: `${name}-beat` }),
          // When this write was decided, for the audit log: `beat-<epoch ms>`.
          query: { fieldManager: `beat-${Date.now()}` },
          contentType: 'application/merge-patch+json',
          body: { data: { writer: identity, at: new Date().toISOString() } },
        });
        await sleep(100);
      }
      return {};
    },
  },
];

const operator = await startOperator(parsed.options, beat, createLogger('info'));
process.on('SIGTERM', () => {
  stopping = true;
  void operator.stop().then(() => process.exit(0));
});
