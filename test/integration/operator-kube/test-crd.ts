// A small CRD with a status subresource for the runtime's tests (the mailfleet CRDs are someone
// else's and still moving). Its group is private to these tests.
import { Applier } from '../../../operator/kube/apply.ts';
import type { KubeClient } from '../../../operator/kube/client.ts';
import { collectionPath, objectPath, type ResourceType } from '../../../operator/kube/resource.ts';
import { eventually } from './support.ts';

/** A Widget kind in a group of its own, so test files running at once never share a CRD. */
export function widgetResourceIn(group: string): ResourceType {
  return {
    group: `${group}.runtime-test.mailfleet.dev`,
    version: 'v1',
    kind: 'Widget',
    plural: 'widgets',
    namespaced: true,
  };
}

const crdResource: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
};

const openObject = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

export async function installWidgetCrd(client: KubeClient, widgetResource: ResourceType): Promise<void> {
  await new Applier(client).apply(crdResource, {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${widgetResource.plural}.${widgetResource.group}` },
    spec: {
      group: widgetResource.group,
      scope: 'Namespaced',
      names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: { type: 'object', properties: { spec: openObject, status: openObject } },
          },
        },
      ],
    },
  });
  await eventually('the Widget CRD is served', async () => {
    try {
      await client.request({ verb: 'list', path: collectionPath(widgetResource) });
      return true;
    } catch {
      return false;
    }
  });
}

export async function removeWidgetCrd(client: KubeClient, widgetResource: ResourceType): Promise<void> {
  await client
    .request({
      verb: 'delete',
      path: objectPath(crdResource, {
        namespace: '',
        name: `${widgetResource.plural}.${widgetResource.group}`,
      }),
    })
    .catch(() => undefined);
}
