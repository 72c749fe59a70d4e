// `kubectl mailfleet queue …`: what to run in each relay pod (the relay's own queue CLI,
// `mailfleet-relay queue …`, which talks to the pod's loopback admin endpoint) and how the pods'
// answers read as one. Pure: the answers come in.
import type { QueueListFilters } from './args.ts';
import { renderTable } from './table.ts';

/** What `mailfleet-relay queue …` printed in one pod, and its exit status. */
export interface PodAnswer {
  readonly pod: string;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Outcome {
  readonly out: string;
  readonly err: string;
  readonly exitCode: number;
}

/** The container of a relay pod that runs the relay (operator/render/relay-stateful-set.ts). */
export const relayContainer = 'relay';

const queueCli = ['mailfleet-relay', 'queue'] as const;

export function listArgv(filters: QueueListFilters): string[] {
  return [
    ...queueCli,
    'list',
    ...(filters.sender === undefined ? [] : ['--sender', filters.sender]),
    ...(filters.recipient === undefined ? [] : ['--recipient', filters.recipient]),
    ...(filters.status === undefined ? [] : ['--status', filters.status]),
    ...(filters.olderThan === undefined ? [] : ['--older-than', filters.olderThan]),
  ];
}

export function retryArgv(queueId: string | undefined): string[] {
  return [...queueCli, 'retry', ...(queueId === undefined ? ['--all'] : [queueId])];
}

export function deleteArgv(queueId: string): string[] {
  return [...queueCli, 'delete', queueId];
}

export function drainArgv(deadlineSeconds: string): string[] {
  return [...queueCli, 'drain', '--deadline', deadlineSeconds];
}

/** One message as `mailfleet-relay queue list` prints it (relay/admin/server.ts). */
export interface ListedMessage {
  readonly queueId: string;
  readonly mailFrom: string;
  readonly size: number;
  readonly ageSeconds: number;
  readonly recipients: readonly {
    readonly address: string;
    readonly status: string;
    readonly attempts: number;
    readonly nextAttemptAt: string;
    readonly lastReply?: string;
  }[];
}

type Parsed<T> = { readonly value: T } | { readonly problem: string };

function parseJson<T>(answer: PodAnswer, check: (value: unknown) => value is T): Parsed<T> {
  if (answer.code !== 0) return { problem: answerError(answer) };
  try {
    const value: unknown = JSON.parse(answer.stdout);
    if (check(value)) return { value };
  } catch {
    // reported below
  }
  return { problem: `unexpected output ${JSON.stringify(answer.stdout.slice(0, 200))}` };
}

/** The relay's `{"error": …}` text, or what the exec printed (kubectl's own errors). */
function answerError(answer: PodAnswer): string {
  const text = answer.stderr.trim() === '' ? answer.stdout.trim() : answer.stderr.trim();
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
  } catch {
    // not the relay's JSON: kubectl's or the shell's message as it is
  }
  return `${text === '' ? 'no output' : text} (exit status ${answer.code})`;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;
const isMessageList = (value: unknown): value is { messages: ListedMessage[] } =>
  isObject(value) && Array.isArray(value['messages']);

function podErrors(failures: readonly { pod: string; problem: string }[]): string {
  return failures.map(({ pod, problem }) => `pod ${pod}: ${problem}\n`).join('');
}

/** The messages of every pod, per pod. */
export function listedMessages(answers: readonly PodAnswer[]): {
  readonly byPod: readonly { readonly pod: string; readonly messages: readonly ListedMessage[] }[];
  readonly failures: readonly { readonly pod: string; readonly problem: string }[];
} {
  const byPod: { pod: string; messages: readonly ListedMessage[] }[] = [];
  const failures: { pod: string; problem: string }[] = [];
  for (const answer of answers) {
    const parsed = parseJson(answer, isMessageList);
    if ('problem' in parsed) failures.push({ pod: answer.pod, problem: parsed.problem });
    else byPod.push({ pod: answer.pod, messages: parsed.value.messages });
  }
  return { byPod, failures };
}

/** An age as kubectl prints one: 45s, 12m, 5h, 3d. */
export function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7_200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3_600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function renderQueueList(answers: readonly PodAnswer[], json: boolean): Outcome {
  const { byPod, failures } = listedMessages(answers);
  const err = podErrors(failures);
  const exitCode = failures.length === 0 ? 0 : 1;
  if (json) {
    const messages = byPod.flatMap(({ pod, messages: listed }) => listed.map((m) => ({ pod, ...m })));
    return { out: `${JSON.stringify({ messages }, null, 2)}\n`, err, exitCode };
  }
  const rows = byPod.flatMap(({ pod, messages }) =>
    messages.map((message) => {
      const next = message.recipients.map((r) => r.nextAttemptAt).sort()[0] ?? '';
      const reply = message.recipients.find((r) => r.lastReply !== undefined)?.lastReply ?? '';
      return [
        pod,
        message.queueId,
        message.mailFrom === '' ? '<>' : message.mailFrom,
        age(message.ageSeconds),
        String(message.size),
        message.recipients.map((r) => `${r.address} (${r.status}, ${r.attempts})`).join(', '),
        next,
        reply,
      ];
    }),
  );
  const headers = ['POD', 'QUEUE ID', 'FROM', 'AGE', 'SIZE', 'RECIPIENTS', 'NEXT ATTEMPT', 'LAST REPLY'];
  const out = rows.length === 0 ? '' : renderTable(headers, rows);
  const empty = rows.length === 0 && failures.length === 0 ? 'No messages queued.\n' : '';
  return { out: out + empty, err, exitCode };
}

/** What the relay answers for a queue id it does not hold (relay/admin/server.ts). */
const notQueued = 'is not in the queue';

/**
 * retry QUEUE_ID and delete QUEUE_ID, sent to every pod: the one that holds the message acts, the
 * others answer that it is not in their queue.
 */
export function renderById(
  verb: 'retried' | 'deleted',
  relay: string,
  queueId: string,
  answers: readonly PodAnswer[],
): Outcome {
  const acted = answers.filter((answer) => answer.code === 0).map((answer) => answer.pod);
  const failures = answers
    .filter((answer) => answer.code !== 0 && !answerError(answer).includes(notQueued))
    .map((answer) => ({ pod: answer.pod, problem: answerError(answer) }));
  const out = acted.map((pod) => `${queueId} ${verb} on pod ${pod}\n`).join('');
  const missing =
    acted.length === 0 && failures.length === 0
      ? `queue id ${queueId} is in no pod of SmtpRelay ${relay} (${answers.map((a) => a.pod).join(', ')})\n`
      : '';
  return { out, err: podErrors(failures) + missing, exitCode: acted.length > 0 ? 0 : 1 };
}

const isRetried = (value: unknown): value is { retried: number } =>
  isObject(value) && typeof value['retried'] === 'number';
const isHandoff = (value: unknown): value is { handedOff: number; remaining: number } =>
  isObject(value) && typeof value['handedOff'] === 'number' && typeof value['remaining'] === 'number';

export function renderRetryAll(answers: readonly PodAnswer[]): Outcome {
  const rows: string[][] = [];
  const failures: { pod: string; problem: string }[] = [];
  for (const answer of answers) {
    const parsed = parseJson(answer, isRetried);
    if ('problem' in parsed) failures.push({ pod: answer.pod, problem: parsed.problem });
    else rows.push([answer.pod, String(parsed.value.retried)]);
  }
  const total = rows.reduce((sum, [, count]) => sum + Number(count), 0);
  return {
    out: `${renderTable(['POD', 'RETRIED'], rows)}${total} message(s) set to retry now\n`,
    err: podErrors(failures),
    exitCode: failures.length === 0 ? 0 : 1,
  };
}

/** One pod's drain: the messages handed to peers and those still in its queue after the deadline. */
export function renderDrained(answer: PodAnswer): Outcome {
  const parsed = parseJson(answer, isHandoff);
  if ('problem' in parsed)
    return { out: '', err: podErrors([{ pod: answer.pod, problem: parsed.problem }]), exitCode: 1 };
  const { handedOff, remaining } = parsed.value;
  return {
    out: `pod ${answer.pod} drained: ${handedOff} handed to peers, ${remaining} still queued\n`,
    err: '',
    exitCode: 0,
  };
}
