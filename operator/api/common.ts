// Schema pieces both kinds share: names, durations, sizes, Secret references, networks, conditions.
// One definition of each so every field of the same sort is validated the same way.
import { integer, intOrString, list, map, object, oneOf, string, type Schema } from './schema.ts';

/** Go-style durations: `30s`, `5m`, `1h30m`, `120h`. The same strings CEL's `duration()` parses. */
export const durationPattern = '^([0-9]+(ms|s|m|h))+$';

/** CEL: true when the expression holds a duration string `duration()` will parse. */
export function isDurationCel(expression: string): string {
  return `${expression}.matches('${durationPattern}')`;
}

export function duration(description: string, defaultValue?: string): Schema {
  return string(`${description} A Go-style duration such as \`30s\`, \`5m\`, \`1h30m\` or \`120h\`.`, {
    maxLength: 32,
    pattern: durationPattern,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });
}

/** A CEL string literal holding `text` (a regular expression, say): backslashes and quotes escaped. */
export function celString(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** CEL: the int-or-string quantity at `expression` as a CEL quantity (an integer becomes its string). */
export function quantityCel(expression: string): string {
  return `quantity(string(${expression}))`;
}

/** Byte sizes are Kubernetes quantities everywhere: an integer of bytes or `512Ki`, `25Mi`, `10Gi`. */
export const quantityPattern = '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$';

export function byteSize(description: string, defaultValue?: string): Schema {
  return intOrString(
    `${description} A Kubernetes quantity: bytes as an integer, or with a suffix such as \`512Ki\`, \`25Mi\`, \`10Gi\`; more than 0.`,
    {
      pattern: quantityPattern,
      minimum: 0,
      ...(defaultValue === undefined ? {} : { default: defaultValue }),
      rules: [
        {
          rule: `!isQuantity(string(self)) || ${quantityCel('self')}.isGreaterThan(quantity('0'))`,
          message: 'must be more than 0 bytes',
        },
      ],
    },
  );
}

/** A resource quantity (CPU or memory), as in a container's `resources`. */
export function resourceQuantity(description: string): Schema {
  return intOrString(description, {
    pattern: '^[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$',
    minimum: 0,
  });
}

const dnsLabel = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';

/** A fully qualified domain name in lower case, at least two labels, the last one starting with a letter. */
export const domainNamePattern = `^(${dnsLabel}\\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`;

/** A host name (one or more labels) or an IPv4 address. */
export const hostPattern = `^${dnsLabel}(\\.${dnsLabel})*$`;

/** A Kubernetes object name (RFC 1123 subdomain). */
export const objectNamePattern = `^${dnsLabel}(\\.${dnsLabel})*$`;

/** A label-style qualified name: an optional DNS subdomain and `/`, then a name (`example.com/lb`). */
export const qualifiedNamePattern =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$';

/** A label key as Kubernetes admits it: an optional DNS prefix of at most 253 and `/`, a name of at most 63. */
export const labelKeyPattern =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$';

/** A label value: empty, or at most 63 of letters, digits, `-`, `_` and `.`, starting and ending alphanumeric. */
export const labelValuePattern = '^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$';

/** CEL: the string at `expression` is a label key Kubernetes admits. */
function labelKeyCel(expression: string): string {
  return `${expression}.matches(${celString(labelKeyPattern)}) && (!${expression}.contains('/') || ${expression}.matches('^[^/]{1,253}/'))`;
}

const labelKeyRule =
  'a valid label key: an optional DNS prefix (at most 253 characters) and "/", then a name of at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit';

/** A map of labels (keys and values as Kubernetes admits them). */
export function labelMap(description: string, maxProperties: number): Schema {
  return map(description, string('The label value.', { maxLength: 63, pattern: labelValuePattern }), {
    maxProperties,
    rules: [
      {
        rule: `self.all(key, ${labelKeyCel('key')})`,
        message: `every key must be ${labelKeyRule}`,
      },
    ],
  });
}

export function objectName(description: string): Schema {
  return string(description, { maxLength: 253, minLength: 1, pattern: objectNamePattern });
}

export function secretKey(description: string, defaultValue: string): Schema {
  return string(description, {
    maxLength: 253,
    minLength: 1,
    pattern: '^[-._a-zA-Z0-9]+$',
    default: defaultValue,
  });
}

export const emailPattern = '^[^@\\s<>"]+@[^@\\s<>"]+$';

export function emailAddress(description: string): Schema {
  return string(description, { maxLength: 254, pattern: emailPattern });
}

/**
 * A list of CIDR networks. CEL's `isCIDR()` validates each; a network of prefix length 0 (all of
 * IPv4 or IPv6) is refused so no list can trust the whole Internet by accident.
 */
export function cidrList(description: string, whyNotEverything: string): Schema {
  return list(
    description,
    string('A network in CIDR notation, such as `10.0.0.0/8` or `fd00::/8`.', {
      maxLength: 43,
      rules: [
        {
          rule: 'isCIDR(self)',
          message: 'must be a network in CIDR notation such as 10.0.0.0/8 or fd00::/8',
        },
        {
          rule: '!isCIDR(self) || cidr(self).prefixLength() > 0',
          message: `must not cover every address (prefix length 0): ${whyNotEverything}`,
        },
      ],
    }),
    { maxItems: 64, listType: 'set' },
  );
}

export function port(description: string, defaultValue?: number): Schema {
  return integer(description, {
    minimum: 1,
    maximum: 65535,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });
}

/** A rate: at most `messages` in each `period`. */
export function rateLimit(description: string): Schema {
  return object(
    'RateLimit',
    description,
    {
      messages: integer('Messages allowed in each period.', { minimum: 1, maximum: 10_000_000 }),
      period: duration('The period the count applies to; at least 1s.', '1h'),
    },
    {
      required: ['messages'],
      rules: [
        {
          rule: `!${isDurationCel('self.period')} || duration(self.period) >= duration('1s')`,
          message: 'period must be at least 1s',
          fieldPath: '.period',
        },
      ],
    },
  );
}

/** A Kubernetes label selector: every `matchLabels` entry and every `matchExpressions` requirement must hold. */
export function labelSelector(description: string): Schema {
  return object(
    'LabelSelector',
    `${description} Every \`matchLabels\` entry and every \`matchExpressions\` requirement must hold.`,
    {
      matchLabels: labelMap('Labels the object must carry, exactly these values.', 32),
      matchExpressions: list(
        'Requirements on labels.',
        object(
          'LabelSelectorRequirement',
          'One requirement on a label.',
          {
            key: string('The label key.', {
              maxLength: 317,
              minLength: 1,
              rules: [{ rule: labelKeyCel('self'), message: `must be ${labelKeyRule}` }],
            }),
            operator: oneOf('How the label relates to the values.', [
              'In',
              'NotIn',
              'Exists',
              'DoesNotExist',
            ]),
            values: list(
              'The values for In and NotIn; empty for Exists and DoesNotExist.',
              string('A label value.', { maxLength: 63, pattern: labelValuePattern }),
              { maxItems: 64, listType: 'atomic' },
            ),
          },
          {
            required: ['key', 'operator'],
            rules: [
              {
                rule: "!(self.operator in ['In', 'NotIn']) || (has(self.values) && size(self.values) > 0)",
                message: 'operators In and NotIn need at least one value',
                fieldPath: '.values',
                reason: 'FieldValueRequired',
              },
              {
                rule: "!(self.operator in ['Exists', 'DoesNotExist']) || !has(self.values) || size(self.values) == 0",
                message: 'operators Exists and DoesNotExist take no values',
                fieldPath: '.values',
              },
            ],
          },
        ),
        { maxItems: 32, listType: 'atomic' },
      ),
    },
  );
}

export function conditions(typesDescription: string): Schema {
  return list(
    `The latest observations of the object's state. ${typesDescription}`,
    object(
      'Condition',
      'One aspect of the current state, as in metav1.Condition.',
      {
        type: string('The aspect this condition describes, in CamelCase.', {
          maxLength: 316,
          pattern: qualifiedNamePattern,
        }),
        status: oneOf('Whether the condition holds.', ['True', 'False', 'Unknown']),
        observedGeneration: integer('The `.metadata.generation` the condition was computed from.', {
          minimum: 0,
          maximum: Number.MAX_SAFE_INTEGER,
          format: 'int64',
        }),
        lastTransitionTime: string('When the status last changed (RFC 3339).', {
          maxLength: 64,
          format: 'date-time',
        }),
        reason: string('A CamelCase, machine-readable cause of the last transition.', {
          maxLength: 1024,
          minLength: 1,
          pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
        }),
        message: string('A human-readable explanation, naming the field or object at fault.', {
          maxLength: 32768,
        }),
      },
      { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
    ),
    { maxItems: 16, listType: 'map', mapKeys: ['type'] },
  );
}

export function observedGeneration(): Schema {
  return integer('The `.metadata.generation` of the spec this status reflects.', {
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    format: 'int64',
  });
}
