// Runs the Helm binary of hack/helm.sh on the chart and parses what it renders. Shared by the
// chart's unit tests and its integration tests (which send the rendered objects to an apiserver).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

export const repoRoot = join(import.meta.dirname, '..', '..', '..');
export const chartDir = join(repoRoot, 'charts', 'mailfleet');
export const fullValuesPath = join(chartDir, 'ci', 'full-values.yaml');

export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

let helmPath: Promise<string> | undefined;

/** The path of the pinned Helm binary (built once per machine by hack/helm.sh). */
export function helmBinary(): Promise<string> {
  helmPath ??= run('bash', [join(repoRoot, 'hack', 'helm.sh')], { maxBuffer: 1 << 20 }).then(({ stdout }) =>
    stdout.trim(),
  );
  return helmPath;
}

export async function helm(args: readonly string[]): Promise<string> {
  const { stdout } = await run(await helmBinary(), [...args], { maxBuffer: 64 << 20 });
  return stdout;
}

export interface RenderOptions {
  readonly release?: string;
  readonly namespace?: string;
  readonly valuesFiles?: readonly string[];
  readonly set?: readonly string[];
  readonly includeCrds?: boolean;
  /** Renders the `helm test` hook pod too (left out by default, as deploy/render.sh leaves it out). */
  readonly includeTests?: boolean;
  readonly chart?: string;
}

export function templateArgs(options: RenderOptions = {}): string[] {
  return [
    'template',
    options.release ?? 'mailfleet',
    options.chart ?? chartDir,
    '--namespace',
    options.namespace ?? 'mailfleet-system',
    ...(options.includeCrds ? ['--include-crds'] : []),
    ...(options.includeTests ? [] : ['--skip-tests']),
    ...(options.valuesFiles ?? []).flatMap((file) => ['--values', file]),
    ...(options.set ?? []).flatMap((value) => ['--set', value]),
  ];
}

/** `helm template` output, as text. */
export function renderText(options: RenderOptions = {}): Promise<string> {
  return helm(templateArgs(options));
}

/** `helm template` output, as objects (empty documents dropped). */
export async function render(options: RenderOptions = {}): Promise<Manifest[]> {
  return parseManifests(await renderText(options));
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`invalid YAML rendered: ${document.errors.join('; ')}`);
      return document.toJS() as Manifest | null;
    })
    .filter((manifest) => manifest !== null);
}

/** The one object of this kind (and name, when given); fails when there is none or several. */
export function only(manifests: readonly Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter(
    (manifest) => manifest.kind === kind && (name === undefined || manifest.metadata.name === name),
  );
  const [first, ...others] = found;
  if (first === undefined || others.length > 0) {
    throw new Error(`expected one ${kind} ${name ?? ''}, rendered ${found.length}`);
  }
  return first;
}

/** Why `helm` failed (its stderr), or a failure when it succeeded. */
export async function helmFailure(args: readonly string[]): Promise<string> {
  try {
    await helm(args);
  } catch (error) {
    return String((error as { stderr?: unknown }).stderr ?? error);
  }
  throw new Error(`helm ${args.join(' ')} succeeded, a failure was expected`);
}
