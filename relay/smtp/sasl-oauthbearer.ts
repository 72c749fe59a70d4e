// SASL OAUTHBEARER (RFC 7628), which smtp-server 3.21 lacks (it has XOAUTH2): the client's one
// message, base64 in the AUTH line or after an empty 334, is a GS2 header and key=value pairs
// separated by ^A:  n,a=<authzid>,^Ahost=relay^Aport=587^Aauth=Bearer <token>^A^A
// Pure: the parser turns the message into the bearer token (and authzid) or says what is wrong.

export type OauthBearerMessage =
  | { readonly ok: true; readonly token: string; readonly authzid: string | undefined }
  | { readonly ok: false; readonly problem: string };

const separator = '\x01';
// Control characters in an authzid could split a log line or a reply.
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\x00-\x1f\x7f-\x9f]/;

export function parseOauthBearer(base64: string): OauthBearerMessage {
  const text = Buffer.from(base64, 'base64').toString('utf8');
  const headerEnd = text.indexOf(separator);
  if (headerEnd === -1 || !text.endsWith(`${separator}${separator}`))
    return { ok: false, problem: 'not an OAUTHBEARER client response' };
  // gs2-header: a channel binding flag (n or y; p= is not allowed here), the authzid, empty.
  const header = text.slice(0, headerEnd).split(',');
  const [flag, authzidField = '', rest] = header;
  if ((flag !== 'n' && flag !== 'y') || header.length !== 3 || rest !== '')
    return { ok: false, problem: 'bad GS2 header' };
  if (authzidField !== '' && !authzidField.startsWith('a=')) return { ok: false, problem: 'bad GS2 header' };
  const authzid =
    authzidField === '' ? undefined : authzidField.slice(2).replaceAll('=2C', ',').replaceAll('=3D', '=');
  if (authzid !== undefined && controlCharacters.test(authzid))
    return { ok: false, problem: 'control characters in the authzid' };
  const pairs = text.slice(headerEnd + 1, -2).split(separator);
  const auth = pairs.find((pair) => pair.startsWith('auth='))?.slice('auth='.length);
  const bearer = auth === undefined ? undefined : /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(auth)?.[1];
  if (bearer === undefined) return { ok: false, problem: 'no auth=Bearer <token>' };
  return { ok: true, token: bearer, authzid };
}

/** The error challenge of RFC 7628 3.2.2, base64 for the 334 line; the client answers ^A. */
export const oauthBearerErrorChallenge = Buffer.from(
  JSON.stringify({ status: 'invalid_token', schemes: 'bearer' }),
).toString('base64');
