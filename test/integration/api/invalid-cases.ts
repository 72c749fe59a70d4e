// One row of an admission test: a mutation of a valid example, the field path the apiserver must
// report and a fragment of its message; assertRejected dry-runs the create and checks the cause.
import assert from 'node:assert/strict';
import { dryRunCreate, parsed, readExample, type Json, type StatusBody } from './support.ts';

export interface InvalidCase {
  readonly name: string;
  readonly example:
    'smtprelay-production.yaml' | 'smtprelay-minimal.yaml' | 'smtprelay-external.yaml' | 'senderdomain.yaml';
  /**
   * A path under `spec` (dots; numbers index lists), or under `metadata` when it starts with
   * `metadata.`, and the value to put there (undefined deletes).
   */
  readonly change: readonly [path: string, value: unknown];
  readonly field: string;
  readonly message: string;
  /** 400 when the request is refused while decoding (unknown fields), before any field-level cause. */
  readonly status?: 400;
}

export function changed(object: Json, [path, value]: InvalidCase['change']): Json {
  const copy = structuredClone(object);
  const segments = path.startsWith('metadata.') ? path.split('.') : ['spec', ...path.split('.')];
  const last = segments.pop();
  let parent: Record<string, unknown> = copy;
  for (const segment of segments) parent = parent[segment] as Record<string, unknown>;
  if (last === undefined) throw new Error(`empty path in ${path}`);
  if (value === undefined) Reflect.deleteProperty(parent, last);
  else parent[last] = value;
  return copy;
}

function causesOf(body: StatusBody): string {
  return (body.details?.causes ?? [])
    .map((cause) => `${cause.field ?? ''}: ${cause.message ?? ''}`)
    .join('\n');
}

/** The row's object is refused with a cause naming row.field and holding row.message. */
export async function assertRejected(namespace: string, row: InvalidCase): Promise<void> {
  const object = changed(await readExample(row.example), row.change);
  const response = await dryRunCreate(namespace, object);
  const expectedStatus = row.status ?? 422;
  assert.equal(
    response.status,
    expectedStatus,
    `expected ${expectedStatus}, got ${response.status}: ${response.body}`,
  );
  const body = parsed(response) as StatusBody;
  if (row.status === 400) {
    assert.ok(
      body.message?.includes(row.message),
      `the message lacks "${row.message}": ${body.message ?? ''}`,
    );
    return;
  }
  const causes = body.details?.causes ?? [];
  const cause = causes.find((candidate) => candidate.field === row.field);
  assert.ok(cause, `no cause names ${row.field}; causes:\n${causesOf(body)}`);
  assert.ok(
    cause.message?.includes(row.message),
    `the message for ${row.field} lacks "${row.message}": ${cause.message ?? ''}`,
  );
  assert.ok(
    body.message?.includes(row.field),
    `the top-level message names ${row.field}: ${body.message ?? ''}`,
  );
}
