// The command line of `kubectl mailfleet`, parsed by node:util's parseArgs into one command. Pure.
import { parseArgs } from 'node:util';

export const usage = `usage: kubectl mailfleet [-n NAMESPACE] [--context NAME] [--kubeconfig FILE] <command>
  status [-A]                            SmtpRelays and SenderDomains: conditions, per-pod queue depth
  queue list RELAY [--pod POD] [--sender S] [--recipient R] [--status pending|deferred] [--older-than SECONDS] [-o json]
  queue retry RELAY (QUEUE_ID | --all)   retry now, on whichever pod holds the message (every pod with --all)
  queue delete RELAY QUEUE_ID            delete from whichever pod holds it
  queue drain RELAY [--pod POD] [--deadline SECONDS]
                                         one pod after the other: deliver until the deadline, hand the rest to the peers
  dns records SENDERDOMAIN               zone-file lines for the records status.dnsRecords lists
  dns check SENDERDOMAIN [--dns-server HOST[:PORT]]
                                         look the records up and compare (exit status 1 when one is not published)`;

export interface Target {
  readonly namespace: string | undefined;
  readonly context: string | undefined;
  readonly kubeconfig: string | undefined;
}

export interface QueueListFilters {
  readonly sender?: string;
  readonly recipient?: string;
  readonly status?: string;
  readonly olderThan?: string;
}

export type Command =
  | { readonly name: 'help' }
  | { readonly name: 'status'; readonly allNamespaces: boolean }
  | {
      readonly name: 'queue-list';
      readonly relay: string;
      readonly pod: string | undefined;
      readonly filters: QueueListFilters;
      readonly json: boolean;
    }
  | { readonly name: 'queue-retry'; readonly relay: string; readonly queueId: string | undefined }
  | { readonly name: 'queue-delete'; readonly relay: string; readonly queueId: string }
  | {
      readonly name: 'queue-drain';
      readonly relay: string;
      readonly pod: string | undefined;
      readonly deadlineSeconds: string;
    }
  | { readonly name: 'dns-records'; readonly senderDomain: string }
  | { readonly name: 'dns-check'; readonly senderDomain: string; readonly dnsServer: string | undefined };

export type Parsed =
  | { readonly ok: true; readonly target: Target; readonly command: Command }
  | { readonly ok: false; readonly problem: string };

const options = {
  namespace: { type: 'string', short: 'n' },
  context: { type: 'string' },
  kubeconfig: { type: 'string' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
  pod: { type: 'string' },
  sender: { type: 'string' },
  recipient: { type: 'string' },
  status: { type: 'string' },
  'older-than': { type: 'string' },
  all: { type: 'boolean' },
  deadline: { type: 'string' },
  'dns-server': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

const commandOptions: Readonly<Record<Command['name'], readonly (keyof Values)[]>> = {
  help: [],
  status: ['all-namespaces'],
  'queue-list': ['pod', 'sender', 'recipient', 'status', 'older-than', 'output'],
  'queue-retry': ['all'],
  'queue-delete': [],
  'queue-drain': ['pod', 'deadline'],
  'dns-records': [],
  'dns-check': ['dns-server'],
};
const globalOptions: readonly (keyof Values)[] = ['namespace', 'context', 'kubeconfig', 'help'];

export function parseCommandLine(argv: readonly string[]): Parsed {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    return { ok: false, problem: error instanceof Error ? error.message : String(error) };
  }
  const { values, positionals } = parsed;
  const target: Target = {
    namespace: values.namespace,
    context: values.context,
    kubeconfig: values.kubeconfig,
  };
  const command = commandOf(values, positionals);
  if ('problem' in command) return { ok: false, problem: command.problem };
  const allowed = new Set([...globalOptions, ...commandOptions[command.name]]);
  const stray = (Object.keys(values) as (keyof Values)[]).find((name) => !allowed.has(name));
  if (stray !== undefined) {
    return { ok: false, problem: `--${stray} does not apply to ${positionals.slice(0, 2).join(' ')}` };
  }
  if (command.name === 'status' && command.allNamespaces && values.namespace !== undefined) {
    return { ok: false, problem: '--namespace and --all-namespaces exclude each other' };
  }
  return { ok: true, target, command };
}

function commandOf(values: Values, positionals: readonly string[]): Command | { problem: string } {
  if (values.help === true) return { name: 'help' };
  const [group, verb, name] = positionals;
  const extras = positionals.slice(3);
  const extra = extras[0];
  if (group === undefined) return { problem: 'a command is required' };
  if (group === 'status') {
    if (verb !== undefined) return { problem: `status takes no argument, got ${JSON.stringify(verb)}` };
    return { name: 'status', allNamespaces: values['all-namespaces'] === true };
  }
  if (group !== 'queue' && group !== 'dns') return { problem: `unknown command ${JSON.stringify(group)}` };
  if (verb === undefined) return { problem: `${group} needs a subcommand` };
  const what = group === 'queue' ? 'an SmtpRelay name' : 'a SenderDomain name';
  if (name === undefined) return { problem: `${group} ${verb} needs ${what}` };
  const tooMany = (allowed: number) =>
    extras.length > allowed
      ? { problem: `${group} ${verb}: unexpected argument ${JSON.stringify(extras[allowed])}` }
      : undefined;
  if (group === 'dns') {
    const stray = tooMany(0);
    if (stray !== undefined) return stray;
    if (verb === 'records') return { name: 'dns-records', senderDomain: name };
    if (verb === 'check') return { name: 'dns-check', senderDomain: name, dnsServer: values['dns-server'] };
    return { problem: `unknown dns subcommand ${JSON.stringify(verb)} (records or check)` };
  }
  switch (verb) {
    case 'list': {
      const stray = tooMany(0);
      if (stray !== undefined) return stray;
      const output = values.output ?? 'table';
      if (output !== 'table' && output !== 'json')
        return { problem: `--output must be table or json, got ${JSON.stringify(output)}` };
      return {
        name: 'queue-list',
        relay: name,
        pod: values.pod,
        json: output === 'json',
        filters: {
          ...(values.sender === undefined ? {} : { sender: values.sender }),
          ...(values.recipient === undefined ? {} : { recipient: values.recipient }),
          ...(values.status === undefined ? {} : { status: values.status }),
          ...(values['older-than'] === undefined ? {} : { olderThan: values['older-than'] }),
        },
      };
    }
    case 'retry': {
      const stray = tooMany(1);
      if (stray !== undefined) return stray;
      if ((extra === undefined) === (values.all !== true))
        return { problem: 'queue retry needs a queue id or --all (not both)' };
      return { name: 'queue-retry', relay: name, queueId: extra };
    }
    case 'delete': {
      const stray = tooMany(1);
      if (stray !== undefined) return stray;
      if (extra === undefined) return { problem: 'queue delete needs a queue id' };
      return { name: 'queue-delete', relay: name, queueId: extra };
    }
    case 'drain': {
      const stray = tooMany(0);
      if (stray !== undefined) return stray;
      const deadline = values.deadline ?? '30';
      if (!/^\d+$/.test(deadline))
        return { problem: `--deadline must be a whole number of seconds, got ${JSON.stringify(deadline)}` };
      return { name: 'queue-drain', relay: name, pod: values.pod, deadlineSeconds: deadline };
    }
    default:
      return { problem: `unknown queue subcommand ${JSON.stringify(verb)} (list, retry, delete or drain)` };
  }
}
