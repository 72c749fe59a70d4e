// The SmtpRelay reconciler against a real apiserver: the operator started in-process with only this
// controller, a private namespace, the examples as written, and a count of the operator's writes.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, parseAllDocuments } from 'yaml';
import { smtpRelayResource } from '../../../operator/api/kinds.ts';
import type { KubeClient } from '../../../operator/kube/client.ts';
import {
  collectionPath,
  coreResources,
  objectPath,
  type KubeObject,
  type ResourceType,
} from '../../../operator/kube/resource.ts';
import { silentLog } from '../../../operator/log.ts';
import { metricNames } from '../../../operator/metrics.ts';
import { startOperator, type ControllerFactory, type RunningOperator } from '../../../operator/main.ts';
import { parseOptions } from '../../../operator/options.ts';
import {
  smtpRelayController,
  type SmtpRelayControllerOptions,
} from '../../../operator/reconcile/smtp-relay.ts';
import type { RelayConfig } from '../../../relay/config/types.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { clientFor, eventually, privateNamespace } from '../operator-kube/support.ts';

export const examplesDir = resolve(import.meta.dirname, '../../../examples');
export const { kubeconfigPath } = sharedControlPlane();
export const admin = clientFor(kubeconfigPath);

export interface OperatorUnderTest {
  readonly operator: RunningOperator;
  /** Writes (create/update/patch/apply/delete) the operator has sent so far. */
  writes(): number;
}

/**
 * The SmtpRelay controller alone with `controllerOptions`, unless `controllers` says otherwise
 * (operatorControllers: both).
 */
export async function startRelayOperator(
  namespace: string | readonly string[],
  controllerOptions: Partial<SmtpRelayControllerOptions> = {},
  controllers?: ControllerFactory,
): Promise<OperatorUnderTest> {
  const parsed = parseOptions(
    [
      `--kubeconfig=${kubeconfigPath}`,
      '--leader-elect=false',
      `--namespaces=${typeof namespace === 'string' ? namespace : namespace.join(',')}`,
      '--http-host=127.0.0.1',
      '--http-port=0',
      '--relay-image=relay:integration',
    ],
    {},
    'smtp-relay-test',
  );
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  let client: KubeClient | undefined;
  const operator = await startOperator(
    parsed.options,
    (tools) => {
      client = tools.client;
      return (
        controllers?.(tools) ?? [
          smtpRelayController({
            ...tools,
            relayImage: tools.options.relayImage,
            discoveryTtlMs: 500,
            ...controllerOptions,
          }),
        ]
      );
    },
    silentLog(),
  );
  await eventually('the caches sync', () => operator.manager.synced);
  return { operator, writes: () => client?.writes ?? 0 };
}

export { eventually, privateNamespace };

/** Successful reconciles of the SmtpRelay controller, from the operator's /metrics. */
export async function smtpRelayReconciles(running: OperatorUnderTest): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${running.operator.httpPort}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (entry) =>
        entry.startsWith(`${metricNames.reconciles}{`) &&
        entry.includes('controller="smtp-relay"') &&
        entry.includes('result="success"'),
    );
  return Number(line?.split(' ').at(-1) ?? 0);
}

/**
 * The operator's writes while the settled relay `name` is reconciled once more (an annotation
 * touched after pending reconciles had time to finish): 0 when reconciling changes nothing.
 */
export async function writesOfAnotherReconcile(
  running: OperatorUnderTest,
  namespace: string,
  name: string,
): Promise<number> {
  await sleep(2_000);
  const writes = running.writes();
  const reconciles = await smtpRelayReconciles(running);
  await admin.request({
    verb: 'patch',
    path: objectPath(smtpRelayResource, { namespace, name }),
    contentType: 'application/merge-patch+json',
    body: { metadata: { annotations: { 'test.mailfleet.dev/touch': String(Date.now()) } } },
  });
  await eventually(
    'the relay is reconciled again',
    async () => (await smtpRelayReconciles(running)) > reconciles,
  );
  await sleep(1_000);
  return running.writes() - writes;
}

export async function readExample(file: string): Promise<KubeObject> {
  return parse(await readFile(join(examplesDir, file), 'utf8')) as KubeObject;
}

export async function applyAsUser(
  resource: ResourceType,
  namespace: string,
  object: KubeObject,
): Promise<KubeObject> {
  const name = object.metadata?.name ?? '';
  return admin.request<KubeObject>({
    verb: 'apply',
    path: objectPath(resource, { namespace, name }),
    query: { fieldManager: 'smtp-relay-test', force: 'true' },
    contentType: 'application/apply-patch+yaml',
    body: { ...object, metadata: { ...object.metadata, namespace } },
  });
}

export async function get<T extends KubeObject>(
  resource: ResourceType,
  namespace: string,
  name: string,
): Promise<T | undefined> {
  try {
    return await admin.request<T>({ verb: 'get', path: objectPath(resource, { namespace, name }) });
  } catch (error) {
    if (error instanceof Error && 'statusCode' in error && error.statusCode === 404) return undefined;
    throw error;
  }
}

export async function list(
  resource: ResourceType,
  namespace: string,
  labelSelector?: string,
): Promise<KubeObject[]> {
  const answer = await admin.request<{ items: KubeObject[] }>({
    verb: 'list',
    path: collectionPath(resource, namespace),
    ...(labelSelector === undefined ? {} : { query: { labelSelector } }),
  });
  return answer.items;
}

export interface RelayView extends KubeObject {
  status?: {
    conditions?: { type: string; status: string; reason: string; message: string }[];
    readyReplicas?: number;
    replicas?: number;
    senderDomains?: { name: string; domain: string; ready?: boolean }[];
  };
}

export async function relayCondition(namespace: string, name: string, type: string) {
  const relay = await get<RelayView>(smtpRelayResource, namespace, name);
  return relay?.status?.conditions?.find((condition) => condition.type === type);
}

/** Installs the CRDs in a file and waits until discovery serves each of them. */
export async function installCrds(file: string): Promise<void> {
  const served: { groupVersion: string; plural: string }[] = [];
  for (const document of parseAllDocuments(await readFile(file, 'utf8'))) {
    const crd = document.toJS() as
      | (KubeObject & { spec: { group: string; names: { plural: string }; versions: { name: string }[] } })
      | null;
    if (crd === null) continue;
    await admin.request({
      verb: 'apply',
      path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata?.name ?? ''}`,
      query: { fieldManager: 'smtp-relay-test', force: 'true' },
      contentType: 'application/apply-patch+yaml',
      body: crd,
    });
    for (const version of crd.spec.versions) {
      served.push({ groupVersion: `${crd.spec.group}/${version.name}`, plural: crd.spec.names.plural });
    }
  }
  for (const { groupVersion, plural } of served) {
    await eventually(`${plural} in ${groupVersion} is served`, async () => {
      try {
        const resources = await admin.request<{ resources: { name: string }[] }>({
          verb: 'get',
          path: `/apis/${groupVersion}`,
        });
        return resources.resources.some((resource) => resource.name === plural);
      } catch {
        return false;
      }
    });
  }
}

export const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** The relay config the operator rendered into the relay's ConfigMap, parsed; undefined before it exists. */
export async function renderedRelayConfig(
  namespace: string,
  relay: string,
): Promise<RelayConfig | undefined> {
  const configMap = await get<KubeObject & { data?: Record<string, string> }>(
    coreResources.configMap,
    namespace,
    `${relay}-config`,
  );
  const text = configMap?.data?.['relay.yaml'];
  return text === undefined ? undefined : (parse(text) as RelayConfig);
}
