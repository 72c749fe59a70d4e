// The relay's tokenAuth section and each SenderDomain's ServiceAccount grants (issue 15). Pure:
// the issuer's keys come in, read by reconcile/service-account-issuer.ts.
import type { PublicJwk, TokenAuthConfig } from '../../relay/config/token-auth-schema.ts';
import type { ServiceAccountGrant } from '../../relay/config/types.ts';
import type { SenderDomain, SmtpRelay } from '../api/types.generated.ts';

export interface IssuerKeys {
  readonly issuer: string;
  readonly keys: readonly PublicJwk[];
}

export type IssuerKeysResult =
  { readonly ok: true; readonly value: IssuerKeys } | { readonly ok: false; readonly problem: string };

/** Leeway on exp/nbf/iat, and how often an unknown key id may make the relay re-read its config. */
const clockSkewSeconds = 30;
const unknownKeyRereadSeconds = 30;

export function renderTokenAuth(
  relay: SmtpRelay,
  issuer: IssuerKeysResult | undefined,
): { tokenAuth?: TokenAuthConfig; errors: string[] } {
  const tokens = relay.spec.serviceAccountTokens;
  if (tokens === undefined) return { errors: [] };
  if (issuer?.ok !== true) {
    return {
      errors: [
        `spec.serviceAccountTokens: the cluster's ServiceAccount issuer keys are not known: ${issuer?.problem ?? 'not read yet'}`,
      ],
    };
  }
  const { audience, maxTokenLifetimeSeconds } = tokens;
  if (audience === issuer.value.issuer) {
    return {
      errors: [
        `spec.serviceAccountTokens.audience: "${audience}" is the cluster's issuer, the API server's own audience; use an audience of its own such as mailfleet.dev/smtp`,
      ],
    };
  }
  return {
    tokenAuth: {
      issuer: issuer.value.issuer,
      audiences: [audience],
      keys: issuer.value.keys,
      clockSkewSeconds,
      maxTokenLifetimeSeconds,
      unknownKeyRereadSeconds,
    },
    errors: [],
  };
}

/** Every ServiceAccount of the SenderDomain's namespace when it lists none; else those it names. */
export function serviceAccountGrants(senderDomain: SenderDomain): ServiceAccountGrant[] {
  const own = senderDomain.metadata.namespace ?? '';
  const listed = senderDomain.spec.serviceAccounts;
  if (listed === undefined) return [{ namespace: own }];
  return listed.map((grant) => ({ namespace: grant.namespace ?? own, name: grant.name }));
}
