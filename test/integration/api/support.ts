// Helpers for the API tests: the shared control plane, namespaces, server-side apply and dry-run
// creates of mailfleet objects, and the examples.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { groupVersion } from '../../../operator/api/crd.ts';
import { kubeRequest, type KubeResponse } from '../../support/control-plane.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';

const execFileAsync = promisify(execFile);
export const controlPlane = sharedControlPlane();
export const examplesDir = resolve(import.meta.dirname, '../../../examples');
export const fieldManager = 'mailfleet-api-test';

export type Json = Record<string, unknown>;

export interface StatusCause {
  readonly field?: string;
  readonly message?: string;
  readonly reason?: string;
}

export interface StatusBody {
  readonly kind?: string;
  readonly message?: string;
  readonly details?: { readonly causes?: readonly StatusCause[] };
}

export function resourcePath(namespace: string, plural: string, name?: string, subresource?: string): string {
  const base = `/apis/${groupVersion}/namespaces/${namespace}/${plural}`;
  return [base, name, subresource].filter((part) => part !== undefined).join('/');
}

export async function request(method: string, path: string, body?: unknown, contentType?: string) {
  return kubeRequest(controlPlane, method, path, {
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    contentType: contentType ?? 'application/json',
  });
}

/** The JSON body; the caller states the shape it expects. */
export function parsed(response: KubeResponse): unknown {
  return JSON.parse(response.body);
}

/** A namespace of its own for one test file; the returned function deletes it. */
export async function temporaryNamespace(
  prefix: string,
): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const created = await request('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  });
  if (created.status !== 201)
    throw new Error(`creating namespace ${name}: ${created.status} ${created.body}`);
  return {
    name,
    remove: async () => {
      await request('DELETE', `/api/v1/namespaces/${name}`);
    },
  };
}

export function pluralOf(object: Json): string {
  return `${String(object['kind']).toLowerCase()}s`;
}

function nameOf(object: Json): string {
  return String((object['metadata'] as Json)['name']);
}

/** Server-side apply with the test field manager (strict field validation, as kubectl does). */
export async function apply(namespace: string, object: Json): Promise<KubeResponse> {
  const query = `fieldManager=${fieldManager}&force=true&fieldValidation=Strict`;
  return request(
    'PATCH',
    `${resourcePath(namespace, pluralOf(object), nameOf(object))}?${query}`,
    object,
    'application/apply-patch+yaml',
  );
}

/** A create that runs admission (defaulting, schema, CEL) and stores nothing. */
export async function dryRunCreate(namespace: string, object: Json): Promise<KubeResponse> {
  const query = `fieldManager=${fieldManager}&fieldValidation=Strict&dryRun=All`;
  return request('POST', `${resourcePath(namespace, pluralOf(object))}?${query}`, object);
}

export async function readExample(file: string): Promise<Json> {
  return parse(await readFile(join(examplesDir, file), 'utf8')) as Json;
}

export async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(join(controlPlane.binDir, 'kubectl'), [
    '--kubeconfig',
    controlPlane.kubeconfigPath,
    ...args,
  ]);
  return stdout;
}
