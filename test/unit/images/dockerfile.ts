// A reader of the project's Dockerfiles, enough to check them without a container engine: the
// instructions of each stage, with line continuations joined and comments dropped.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..', '..');
export const images = [
  { program: 'operator', dockerfile: 'Dockerfile.operator' },
  { program: 'relay', dockerfile: 'Dockerfile.relay' },
] as const;

export interface Instruction {
  readonly keyword: string;
  readonly flags: readonly string[];
  readonly args: string;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** Instructions before the first FROM (global ARGs). */
  readonly preamble: readonly Instruction[];
  readonly stages: readonly Stage[];
}

export function parseInstructions(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  return logical
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      const flags: string[] = [];
      while (rest[0]?.startsWith('--')) flags.push(rest.shift() ?? '');
      return { keyword: keyword.toUpperCase(), flags, args: rest.join(' ') };
    });
}

export function parseDockerfile(text: string): Dockerfile {
  const preamble: Instruction[] = [];
  const stages: { from: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of parseInstructions(text)) {
    if (instruction.keyword === 'FROM') {
      const [from = '', as, name] = instruction.args.split(/\s+/);
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      (stages.at(-1)?.instructions ?? preamble).push(instruction);
    }
  }
  return { preamble, stages };
}

export async function readDockerfile(path: string): Promise<Dockerfile> {
  return parseDockerfile(await readFile(join(repoRoot, path), 'utf8'));
}

/** The build-context paths a stage copies in (COPY without --from), the destination dropped. */
export function contextSources(stage: Stage): string[] {
  return stage.instructions
    .filter(
      (instruction) =>
        instruction.keyword === 'COPY' && !instruction.flags.some((f) => f.startsWith('--from')),
    )
    .flatMap((instruction) => instruction.args.split(/\s+/).slice(0, -1));
}

/** The exec-form ENTRYPOINT of a stage. */
export function entrypoint(stage: Stage): string[] {
  const instruction = stage.instructions.findLast((candidate) => candidate.keyword === 'ENTRYPOINT');
  if (!instruction) throw new Error(`stage ${stage.name ?? stage.from} has no ENTRYPOINT`);
  return JSON.parse(instruction.args) as string[];
}

/** LABEL key="value" pairs of a stage. */
export function labels(stage: Stage): Map<string, string> {
  const found = new Map<string, string>();
  for (const instruction of stage.instructions.filter((candidate) => candidate.keyword === 'LABEL')) {
    for (const match of instruction.args.matchAll(/([\w.-]+)="([^"]*)"/g))
      found.set(match[1] ?? '', match[2] ?? '');
  }
  return found;
}
