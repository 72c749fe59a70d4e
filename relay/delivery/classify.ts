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
    // Postfix's smtp_sasl_auth_soft_bounce: a refused login is a rotated or wrong password on our
    // side; bouncing would return every queued message, deferring keeps them until it is fixed.
    case 'auth-refused':
      return 'deferred';
    case 'dns':
      return result.permanent ? 'bounced' : 'deferred';
    case 'forbidden-destination':
      return 'bounced';
  }
}
