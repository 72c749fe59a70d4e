// What the relay's log lines never carry: the value of a field named `password` or `key`, at the top
// of a log object or one level down in it, or among a logger's bindings. The relay never passes a
// credential to a log call (AUTH logs the user name only); this is the net under that rule.
// It replaces pino's `redact` option, whose implementation in pino 10 (@pinojs/redact) parses its
// paths and clones the object on every line: 1.5 µs and about 4 KB of garbage a line, for lines
// that have nothing to hide. Pure.

export const redactedValue = '[redacted]';

const secretFields: ReadonlySet<string> = new Set(['password', 'key']);

/** pino serializers that censor a top-level secret field wherever pino serializes one (child bindings too). */
export const censoredFields: Readonly<Record<string, () => string>> = Object.fromEntries(
  [...secretFields].map((name) => [name, () => redactedValue]),
);

/** The object itself when no field needs censoring, else a shallow copy with each such field censored. */
export function redactSecrets(object: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const name in object) {
    if (!Object.hasOwn(object, name)) continue;
    const value = object[name];
    const censored = secretFields.has(name)
      ? redactedValue
      : typeof value === 'object' && value !== null
        ? censorFields(value)
        : undefined;
    if (censored === undefined) continue;
    copy ??= { ...object };
    copy[name] = censored;
  }
  return copy ?? object;
}

/** A shallow copy of `value` with its own secret fields censored; undefined when it has none. */
function censorFields(value: object): Record<string, unknown> | undefined {
  let copy: Record<string, unknown> | undefined;
  for (const name in value) {
    if (!secretFields.has(name) || !Object.hasOwn(value, name)) continue;
    copy ??= { ...value };
    copy[name] = redactedValue;
  }
  return copy;
}
