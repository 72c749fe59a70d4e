// Structural defaulting as the apiserver does it, so code and tests can turn a spec as written into
// the spec as served: wherever an object is present, each absent property with a default gets it,
// then defaulting continues inside (including inside the defaults just set). Pure: returns a copy.
import type { Schema } from './schema.ts';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function withDefaults(schema: Schema, value: unknown): unknown {
  if (Array.isArray(value)) {
    const { items } = schema;
    return items ? value.map((item) => withDefaults(items, item)) : structuredClone(value);
  }
  if (!isRecord(value)) return value;
  if (schema.properties) {
    const result: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const childSchema = schema.properties[key];
      result[key] = childSchema ? withDefaults(childSchema, child) : structuredClone(child);
    }
    for (const [key, childSchema] of Object.entries(schema.properties)) {
      if (result[key] === undefined && childSchema.default !== undefined) {
        result[key] = withDefaults(childSchema, structuredClone(childSchema.default));
      }
    }
    return result;
  }
  const { additionalProperties } = schema;
  if (additionalProperties) {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [key, withDefaults(additionalProperties, child)]),
    );
  }
  return structuredClone(value);
}
