// What every controller is built with: the operator's one metered client and its writers. main.ts
// makes them once; each controller's options extend this, so they are handed over the same way.
import type { Log } from '../log.ts';
import type { Applier } from './apply.ts';
import type { KubeClient } from './client.ts';
import type { Clock } from './clock.ts';
import type { EventRecorder } from './events.ts';
import type { StatusWriter } from './status.ts';

export interface KubeTools {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly log: Log;
  readonly applier: Applier;
  readonly status: StatusWriter;
  readonly events: EventRecorder;
}
