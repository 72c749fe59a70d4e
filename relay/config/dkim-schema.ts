// DKIM keys of one sender domain (the `dkim` list inside each `policy.senderDomains[]` entry).
import type { JSONSchemaType } from 'ajv';

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

export interface DkimKeyConfig {
  readonly selector: string;
  readonly algorithm: DkimAlgorithm;
  /** PEM private key (PKCS#8 or PKCS#1 for RSA, PKCS#8 for Ed25519). */
  readonly privateKeyFile: string;
}

export const dkimKeySchema: JSONSchemaType<DkimKeyConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['selector', 'algorithm', 'privateKeyFile'],
  properties: {
    selector: {
      type: 'string',
      pattern:
        '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$',
      description: 'a DNS label or dotted labels (the s= tag)',
    },
    algorithm: {
      type: 'string',
      enum: ['rsa-sha256', 'ed25519-sha256'],
      description: 'rsa-sha256 (RSA-2048 key) or ed25519-sha256',
    },
    privateKeyFile: {
      type: 'string',
      minLength: 2,
      pattern: '^/',
      description: 'an absolute path to a PEM private key',
    },
  },
};

export const dkimKeyListSchema: JSONSchemaType<DkimKeyConfig[]> = {
  type: 'array',
  items: dkimKeySchema,
  description: 'DKIM keys: every key signs each message sent as this domain (relaxed/relaxed).',
};
