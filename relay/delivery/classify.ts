// The verdict on one attempt for one recipient: pure, table-tested.
import type { AttemptResult, Verdict } from './attempt-result.ts';

export function classify(result: AttemptResult): Verdict {
  switch (result.kind) {
    case 'reply':
      if (result.code >= 200 && result.code < 300) return 'delivered';
      if (result.code >= 500 && result.code < 600) return 'bounced';
      return 'deferred';
    case 'network':
    case 'tls':
    case 'auth-withheld':
    case 'interrupted':
      return 'deferred';
    case 'dns':
      return result.permanent ? 'bounced' : 'deferred';
    case 'forbidden-destination':
      return 'bounced';
  }
}
