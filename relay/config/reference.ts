// The relay config reference (docs/relay-config.md), rendered from the one schema so the two cannot
// drift. Pure: schema in, Markdown out.
import { relayConfigSchema } from './schema.ts';

interface SchemaNode {
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly items?: SchemaNode;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly pattern?: string;
}

interface Row {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly fallback: string;
  readonly description: string;
}

export function relayConfigReference(schema: SchemaNode = relayConfigSchema as SchemaNode): string {
  const rows: Row[] = [];
  walk(schema, '', rows);
  const lines = [
    '# Relay configuration reference',
    '',
    'Generated from `relay/config/schema.ts` by `relay/config/reference.ts`. Do not edit.',
    '',
    'The relay reads one YAML or JSON file: `mailfleet-relay --config relay.yaml` (`--check` validates it',
    'and exits). Secrets (TLS keys and certificates, the AUTH users file, smarthost credentials, DKIM',
    'keys) are referenced by absolute file path, never inlined. The relay reloads on SIGHUP and when',
    'the config file or a referenced file changes (Kubernetes `..data` symlink swaps included; other',
    'files in the same directories, such as a log file, are ignored); an',
    'invalid new config is refused and the old one keeps serving. A reload swaps live: policy, limits,',
    'AUTH users, TLS certificates, DKIM keys and smarthost credentials. These take effect at the next',
    'restart: `listeners`, `http`, `queue` and the rest of `delivery`.',
    '',
    '| Field | Type | Required | Default | Description |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| \`${row.path}\` | ${row.type} | ${row.required ? 'yes' : ''} | ${row.fallback} | ${escape(row.description)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

function walk(node: SchemaNode, path: string, rows: Row[]): void {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const childPath = path === '' ? name : `${path}.${name}`;
    rows.push({
      path: childPath,
      type: typeOf(child),
      required: node.required?.includes(name) ?? false,
      fallback: child.default === undefined ? '' : `\`${JSON.stringify(child.default)}\``,
      description: describe(child),
    });
    if (child.properties) walk(child, childPath, rows);
    if (child.items?.properties) walk(child.items, `${childPath}[]`, rows);
  }
}

function typeOf(node: SchemaNode): string {
  if (node.enum) return node.enum.map((value) => `\`${String(value)}\``).join(' \\| ');
  if (node.type === 'array') return `list of ${node.items ? typeOf(node.items) : 'values'}`;
  return node.type ?? 'any';
}

function describe(node: SchemaNode): string {
  const bounds = [
    node.minimum === undefined ? undefined : `≥ ${node.minimum}`,
    node.exclusiveMinimum === undefined ? undefined : `> ${node.exclusiveMinimum}`,
    node.maximum === undefined ? undefined : `≤ ${node.maximum}`,
  ].filter((bound) => bound !== undefined);
  const text = node.description ?? node.items?.description ?? '';
  return bounds.length > 0 ? `${text} (${bounds.join(', ')})`.trim() : text;
}

function escape(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
