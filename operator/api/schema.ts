// Builders for the OpenAPI v3 (structural) schemas of the mailfleet CRDs. The schema objects they
// return are the one source of the API: the CRD YAML, the TypeScript types and the field reference
// are all generated from them (hack/generate.ts). Pure: no I/O.

/** A CEL rule as the apiserver takes it (`x-kubernetes-validations`). */
export interface ValidationRule {
  readonly rule: string;
  readonly message: string;
  /** Where the error is reported, relative to the node carrying the rule (e.g. `.tls`). */
  readonly fieldPath?: string;
  readonly reason?:
    'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** The subset of Kubernetes' JSONSchemaProps the mailfleet API uses. */
export interface Schema {
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'boolean';
  readonly description: string;
  readonly format?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: Schema;
  readonly items?: Schema;
  readonly enum?: readonly string[];
  readonly default?: unknown;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly maxProperties?: number;
  readonly anyOf?: readonly Pick<Schema, 'type'>[];
  readonly 'x-kubernetes-int-or-string'?: true;
  readonly 'x-kubernetes-preserve-unknown-fields'?: true;
  readonly 'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
  readonly 'x-kubernetes-map-type'?: 'atomic' | 'granular';
  readonly 'x-kubernetes-validations'?: readonly ValidationRule[];
}

/** The TypeScript interface name of each object schema; kept out of the schema so the CRD stays clean. */
const typeNames = new WeakMap<Schema, string>();

export function typeNameOf(schema: Schema): string | undefined {
  return typeNames.get(schema);
}

interface CommonOptions {
  readonly rules?: readonly ValidationRule[];
}

function withRules<T extends Schema>(schema: T, rules: readonly ValidationRule[] | undefined): T {
  return rules && rules.length > 0 ? { ...schema, 'x-kubernetes-validations': rules } : schema;
}

export interface StringOptions extends CommonOptions {
  readonly maxLength: number;
  readonly minLength?: number;
  readonly pattern?: string;
  readonly format?: string;
  readonly default?: string;
}

export function string(description: string, options: StringOptions): Schema {
  const { rules, ...rest } = options;
  return withRules({ type: 'string', description, ...rest }, rules);
}

export function oneOf(
  description: string,
  values: readonly string[],
  options: CommonOptions & { readonly default?: string } = {},
): Schema {
  const { rules, ...rest } = options;
  return withRules({ type: 'string', description, enum: values, ...rest }, rules);
}

export interface IntegerOptions extends CommonOptions {
  readonly minimum: number;
  readonly maximum: number;
  readonly default?: number;
  readonly format?: 'int32' | 'int64';
}

export function integer(description: string, options: IntegerOptions): Schema {
  const { rules, format = 'int32', ...rest } = options;
  return withRules({ type: 'integer', format, description, ...rest }, rules);
}

export function boolean(description: string, defaultValue?: boolean): Schema {
  return defaultValue === undefined
    ? { type: 'boolean', description }
    : { type: 'boolean', description, default: defaultValue };
}

export interface ObjectOptions<Keys extends string> extends CommonOptions {
  readonly required?: readonly Keys[];
  readonly default?: Readonly<Record<string, unknown>>;
}

/**
 * The defaults of the properties, spelled out: the apiserver validates an object's default as
 * written (CEL rules included) before it applies nested defaults, so `{}` would fail rules that
 * read defaulted fields.
 */
function defaultsOf(properties: Readonly<Record<string, Schema>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(properties)
      .filter(([, child]) => child.default !== undefined)
      .map(([name, child]) => [name, child.default]),
  );
}

/**
 * An object with known properties. `typeName` names its TypeScript interface. A `default` (even `{}`)
 * makes the apiserver create the object when it is absent, with its properties' defaults.
 */
export function object<Properties extends Readonly<Record<string, Schema>>>(
  typeName: string,
  description: string,
  properties: Properties,
  options: ObjectOptions<keyof Properties & string> = {},
): Schema {
  const { rules, required, default: defaultValue } = options;
  const schema = withRules(
    {
      type: 'object',
      description,
      properties,
      ...(required && required.length > 0 ? { required } : {}),
      ...(defaultValue ? { default: { ...defaultsOf(properties), ...defaultValue } } : {}),
    } satisfies Schema,
    rules,
  );
  typeNames.set(schema, typeName);
  return schema;
}

export interface ListOptions extends CommonOptions {
  readonly maxItems: number;
  readonly minItems?: number;
  readonly default?: readonly unknown[];
  readonly listType?: 'atomic' | 'set' | 'map';
  readonly mapKeys?: readonly string[];
}

export function list(description: string, items: Schema, options: ListOptions): Schema {
  const { rules, listType, mapKeys, ...rest } = options;
  return withRules(
    {
      type: 'array',
      description,
      items,
      ...rest,
      ...(listType ? { 'x-kubernetes-list-type': listType } : {}),
      ...(mapKeys ? { 'x-kubernetes-list-map-keys': mapKeys } : {}),
    },
    rules,
  );
}

export function map(
  description: string,
  values: Schema,
  options: CommonOptions & {
    readonly maxProperties: number;
    readonly default?: Readonly<Record<string, unknown>>;
  },
): Schema {
  const { rules, ...rest } = options;
  return withRules({ type: 'object', description, additionalProperties: values, ...rest }, rules);
}

/** An object whose fields the apiserver keeps as given (a Kubernetes core type we pass through). */
export function opaqueObject(description: string): Schema {
  return { type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true };
}

/** Integer or string, as Kubernetes quantities are (`25Mi`, `1000`). */
export function intOrString(
  description: string,
  options: CommonOptions & { readonly pattern: string; readonly minimum: number; readonly default?: string },
): Schema {
  const { rules, ...rest } = options;
  return withRules(
    {
      description,
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      maxLength: 32,
      ...rest,
    },
    rules,
  );
}
