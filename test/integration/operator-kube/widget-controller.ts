// A tiny real controller that exercises the runtime the way the mailfleet reconcilers will: a
// Widget (test CRD) is mirrored into an owned ConfigMap; its spec.secretName references a Secret
// whose absence gives Ready=False and a Warning event; a change of the Secret or of the owned
// ConfigMap maps back to the Widget's key.
import { Applier } from '../../../operator/kube/apply.ts';
import type { KubeClient } from '../../../operator/kube/client.ts';
import type { Clock } from '../../../operator/kube/clock.ts';
import type { Controller } from '../../../operator/kube/controller.ts';
import { EventRecorder } from '../../../operator/kube/events.ts';
import { controllerKeyOf, controllerReference } from '../../../operator/kube/owner.ts';
import {
  coreResources,
  formatKey,
  keyOf,
  type KubeObject,
  type ResourceType,
} from '../../../operator/kube/resource.ts';
import { StatusWriter, type WithStatus } from '../../../operator/kube/status.ts';
import { silentLog } from '../../../operator/log.ts';

export interface Widget extends WithStatus {
  spec?: { size?: number; secretName?: string };
}

interface Secret extends KubeObject {
  data?: Record<string, string>;
}

export const mirrorLabel = 'runtime-test.mailfleet.dev/mirror';

function secretKeyOf(widget: Widget): string | undefined {
  const name = widget.spec?.secretName;
  return name === undefined ? undefined : formatKey({ namespace: widget.metadata?.namespace ?? '', name });
}

export function widgetController(widgets: ResourceType, client: KubeClient, clock: Clock): Controller {
  const applier = new Applier(client);
  const status = new StatusWriter(client, clock);
  const events = new EventRecorder({
    client,
    clock,
    log: silentLog(),
    component: 'widget-controller',
    instance: 'test',
  });
  return {
    name: 'widget',
    primary: {
      resource: widgets,
      indexes: {
        secret: (object) => {
          const key = secretKeyOf(object);
          return key === undefined ? [] : [key];
        },
      },
    },
    watches: [
      {
        resource: coreResources.configMap,
        labelSelector: `${mirrorLabel}=true`,
        mapToKeys: (object) => {
          const owner = controllerKeyOf(object, 'Widget');
          return owner === undefined ? [] : [owner];
        },
      },
      {
        resource: coreResources.secret,
        mapToKeys: (object, context) => context.cache(widgets).byIndex('secret', keyOf(object)).map(keyOf),
      },
    ],
    async reconcile(key, context) {
      const widget = context.cache<Widget>(widgets).get(key);
      if (widget === undefined) return undefined;
      const secretKey = secretKeyOf(widget);
      const secret =
        secretKey === undefined ? undefined : context.cache<Secret>(coreResources.secret).get(secretKey);
      if (secret === undefined) {
        const message = `Secret ${secretKey ?? '(none)'} does not exist`;
        await events.record(widget, 'Warning', 'SecretMissing', message);
        await status.write(widgets, widget, {
          conditions: [{ type: 'Ready', status: 'False', reason: 'SecretMissing', message }],
        });
        return undefined;
      }
      const mirrorName = `${widget.metadata?.name ?? ''}-mirror`;
      await applier.apply(
        coreResources.configMap,
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: mirrorName,
            namespace: widget.metadata?.namespace ?? '',
            labels: { [mirrorLabel]: 'true' },
            ownerReferences: [controllerReference(widget)],
          },
          data: {
            size: String(widget.spec?.size ?? 0),
            secretKeys: Object.keys(secret.data ?? {})
              .sort()
              .join(','),
          },
        },
        {
          live: context
            .cache(coreResources.configMap)
            .get(formatKey({ namespace: widget.metadata?.namespace ?? '', name: mirrorName })),
        },
      );
      await status.write(widgets, widget, {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Mirrored',
            message: `mirrored into ConfigMap ${mirrorName}`,
          },
        ],
      });
      return undefined;
    },
  };
}
