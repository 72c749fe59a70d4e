// What one delivery attempt says about one recipient, before classification. Errors are values.
export type AttemptResult =
  | { readonly kind: 'reply'; readonly code: number; readonly text: string }
  | { readonly kind: 'network'; readonly text: string }
  | { readonly kind: 'tls'; readonly text: string }
  | { readonly kind: 'dns'; readonly permanent: boolean; readonly text: string }
  | { readonly kind: 'forbidden-destination'; readonly text: string };

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
      case 'dns':
        return result.permanent
          ? `550 5.1.2 no mail exchanger: ${result.text}`
          : `451 4.4.3 DNS failure: ${result.text}`;
      case 'forbidden-destination':
        return `550 5.4.4 destination not allowed: ${result.text}`;
    }
  })();
  // Replies end up in headers of bounces and in logs: never let a CR or LF through (case 17).
  return line.replace(/[\r\n]+/g, ' ').slice(0, 500);
}
