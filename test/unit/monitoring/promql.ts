// Just enough of PromQL's lexical structure to list what an expression reads: the series it selects
// with their label matchers, and the label lists of by / without / on / ignoring / group_left /
// group_right. Syntax is Prometheus's to check (promtool, the integration test); this finds names.

export interface Matcher {
  readonly label: string;
  readonly op: string;
  readonly value: string;
}

export interface Selector {
  readonly metric: string;
  readonly matchers: readonly Matcher[];
}

export interface PromqlNames {
  readonly selectors: readonly Selector[];
  readonly groupings: readonly (readonly string[])[];
}

type Token =
  | { readonly kind: 'ident'; readonly text: string }
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'punct'; readonly text: string }
  | { readonly kind: 'other' };

const groupingKeywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const operatorKeywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);
/** Aggregations may put their grouping between the name and the parenthesis: `sum by (job) (x)`. */
const aggregations = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
]);

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < expr.length) {
    const rest = expr.slice(at);
    const char = expr[at] ?? '';
    const space = /^\s+/.exec(rest);
    const ident = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(rest);
    const number = /^[0-9][0-9.eEa-zA-Z]*/.exec(rest);
    if (space) {
      at += space[0].length;
    } else if (char === '"' || char === "'" || char === '`') {
      let end = at + 1;
      while (end < expr.length && expr[end] !== char) end += expr[end] === '\\' ? 2 : 1;
      // Raw text: no value used here has escapes, and a wrong unescape could only hide a mismatch.
      tokens.push({ kind: 'string', text: expr.slice(at + 1, end) });
      at = end + 1;
    } else if (char === '[') {
      // Range and subquery durations: nothing named inside.
      at = expr.indexOf(']', at) + 1 || expr.length;
      tokens.push({ kind: 'other' });
    } else if (ident) {
      tokens.push({ kind: 'ident', text: ident[0] });
      at += ident[0].length;
    } else if (number) {
      tokens.push({ kind: 'other' });
      at += number[0].length;
    } else {
      const operator = /^(=~|!~|!=|==|>=|<=)/.exec(rest)?.[0] ?? char;
      tokens.push({ kind: 'punct', text: operator });
      at += operator.length;
    }
  }
  return tokens;
}

function isPunct(token: Token | undefined, text: string): boolean {
  return token?.kind === 'punct' && token.text === text;
}

/** The names an expression uses. Throws on a selector without a metric name (none is needed here). */
export function promqlNames(expr: string): PromqlNames {
  const tokens = tokenize(expr);
  const selectors: Selector[] = [];
  const groupings: string[][] = [];
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index];
    const next = tokens[index + 1];
    if (isPunct(token, '{')) throw new Error(`a selector without a metric name in: ${expr}`);
    if (token?.kind !== 'ident') continue;
    if (groupingKeywords.has(token.text)) {
      if (!isPunct(next, '(')) continue;
      const labels: string[] = [];
      for (index += 2; index < tokens.length && !isPunct(tokens[index], ')'); index += 1) {
        const label = tokens[index];
        if (label?.kind === 'ident') labels.push(label.text);
      }
      groupings.push(labels);
    } else if (isPunct(next, '(') || operatorKeywords.has(token.text) || aggregations.has(token.text)) {
      continue;
    } else if (isPunct(next, '{')) {
      const matchers: Matcher[] = [];
      for (index += 2; index < tokens.length && !isPunct(tokens[index], '}'); index += 1) {
        const [label, op, value] = [tokens[index], tokens[index + 1], tokens[index + 2]];
        if (label?.kind === 'ident' && op?.kind === 'punct' && value?.kind === 'string') {
          matchers.push({ label: label.text, op: op.text, value: value.text });
          index += 2;
        }
      }
      selectors.push({ metric: token.text, matchers });
    } else {
      selectors.push({ metric: token.text, matchers: [] });
    }
  }
  return { selectors, groupings };
}

/** Label values the code declares as constants: a matcher on these labels must name one of them. */
export type DeclaredValues = ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;

/**
 * What is wrong with an expression against the exported series: unknown series, matchers or
 * groupings on labels the series do not carry, `=` matchers on values the code never sets.
 */
export function problemsIn(
  expr: string,
  series: ReadonlyMap<string, ReadonlySet<string>>,
  declared: DeclaredValues,
): string[] {
  const { selectors, groupings } = promqlNames(expr);
  const problems: string[] = [];
  for (const { metric, matchers } of selectors) {
    const labels = series.get(metric);
    if (labels === undefined) {
      problems.push(`${metric} is not exported`);
      continue;
    }
    for (const { label, op, value } of matchers) {
      if (!labels.has(label)) problems.push(`${metric} has no label ${label}`);
      const values = declared.get(metric)?.get(label);
      if (op === '=' && values !== undefined && !values.includes(value))
        problems.push(`${metric}{${label}} is never "${value}" (one of ${values.join(', ')})`);
    }
  }
  for (const labels of groupings) {
    for (const label of labels) {
      for (const { metric } of selectors) {
        if (series.get(metric)?.has(label) === false)
          problems.push(`grouping by ${label}: ${metric} has no such label`);
      }
    }
  }
  return problems;
}
