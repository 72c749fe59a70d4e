// The reply catalogue is the one list of refusals: the rejection reasons (the `reason` label of
// mailfleet_relay_rejections_total) are its reasons, each reply's text carries its enhanced code in
// the line a client sees, and the codes agree with RFC 3463's classes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { carriesEnhancedCode, rejectionReasons, replies, replyLine } from '../../../relay/smtp/replies.ts';

test('the rejection reasons are exactly the catalogue reasons, once each', () => {
  const reasons = new Set(Object.values(replies).map((reply) => reply.reason));
  assert.deepEqual([...rejectionReasons].sort(), [...reasons].sort());
  assert.equal(new Set(rejectionReasons).size, rejectionReasons.length);
  // The ones the first round missed or could never count.
  const counted: readonly string[] = rejectionReasons;
  for (const reason of ['tls_required', 'auth_plaintext', 'auth_required', 'session_timeout'])
    assert.ok(counted.includes(reason), reason);
});

for (const [name, reply] of Object.entries(replies)) {
  test(`${name}: ${replyLine(reply)}`, () => {
    assert.ok(carriesEnhancedCode(replyLine(reply)));
    assert.equal(reply.enhancedCode[0], String(reply.code)[0], 'the enhanced class matches the reply class');
    assert.match(reply.reason, /^[a-z_]+$/);
  });
}
