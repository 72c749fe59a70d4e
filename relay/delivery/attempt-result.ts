// What one delivery attempt says about one recipient, before classification. Errors are values.
export type AttemptResult =
  | { readonly kind: 'reply'; readonly code: number; readonly text: string }
  | { readonly kind: 'network'; readonly text: string }
  | { readonly kind: 'tls'; readonly text: string }
  /** Credentials are configured but the session is not encrypted: AUTH was not sent (case 28). */
  | { readonly kind: 'auth-withheld'; readonly text: string }
  /** The next hop answered AUTH with 5xx (535, 534, 538…): our credentials, not the sender's fault. */
  | { readonly kind: 'auth-refused'; readonly code: number; readonly text: string }
  | { readonly kind: 'dns'; readonly permanent: boolean; readonly text: string }
  | { readonly kind: 'forbidden-destination'; readonly text: string }
  /** The relay itself cut the attempt short (it is stopping): no fault of the destination. */
  | { readonly kind: 'interrupted'; readonly text: string };

export type Verdict = 'delivered' | 'deferred' | 'bounced';

/** The one line kept in the queue and written into bounces: a reply, or a synthetic one for errors. */
export function replyLine(result: AttemptResult): string {
  const line = (() => {
    switch (result.kind) {
      case 'reply':
        return `${result.code} ${result.text}`;
      case 'network':
        return `451 4.4.1 connection failed: ${result.text}`;
      case 'tls':
        return `451 4.7.5 TLS failed, not sent in plaintext: ${result.text}`;
      case 'auth-withheld':
        return `451 4.7.0 credentials withheld: ${result.text}`;
      case 'auth-refused':
        return `451 4.7.0 the next hop refused the relay's credentials (${String(result.code)} ${result.text})`;
      case 'dns':
        return result.permanent
          ? `550 5.1.2 no mail exchanger: ${result.text}`
          : `451 4.4.3 DNS failure: ${result.text}`;
      case 'forbidden-destination':
        return `550 5.4.4 destination not allowed: ${result.text}`;
      case 'interrupted':
        return `451 4.3.2 ${result.text}`;
    }
  })();
  // Replies end up in headers of bounces and in logs: never let a CR or LF through (case 17).
  return line.replace(/[\r\n]+/g, ' ').slice(0, 500);
}

export interface GroupAttempt {
  readonly group: { readonly destination: string; readonly indexes: readonly number[] };
  readonly results: readonly AttemptResult[];
}

/**
 * An attempt the relay cut short itself (it is stopping) says nothing about the destination: those
 * recipients are left out of what is recorded, keep their state and stay due at once, for the
 * hand-off or the next start, rather than waiting out a retry delay they did not earn.
 */
export function withoutInterrupted(attempted: readonly GroupAttempt[]): GroupAttempt[] {
  return attempted
    .map(({ group, results }) => {
      const kept = group.indexes.flatMap((index, position) => {
        const result = results[position];
        return result === undefined || result.kind === 'interrupted' ? [] : [{ index, result }];
      });
      return {
        group: { ...group, indexes: kept.map(({ index }) => index) },
        results: kept.map(({ result }) => result),
      };
    })
    .filter(({ results }) => results.length > 0);
}
