// Kubernetes label selectors (matchLabels + matchExpressions), matched against an object's labels.
// Pure.

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export function matchesSelector(
  labels: Readonly<Record<string, string>> | undefined,
  selector: LabelSelector,
): boolean {
  const actual = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (actual[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((requirement) => matchesRequirement(actual, requirement));
}

function matchesRequirement(
  labels: Readonly<Record<string, string>>,
  requirement: LabelSelectorRequirement,
): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  const value = labels[requirement.key];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
  }
}

/** The selector in the query-string form the apiserver takes (`labelSelector=`). */
export function formatSelector(selector: LabelSelector): string {
  const terms = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  for (const requirement of selector.matchExpressions ?? []) {
    const values = (requirement.values ?? []).join(',');
    switch (requirement.operator) {
      case 'In':
        terms.push(`${requirement.key} in (${values})`);
        break;
      case 'NotIn':
        terms.push(`${requirement.key} notin (${values})`);
        break;
      case 'Exists':
        terms.push(requirement.key);
        break;
      case 'DoesNotExist':
        terms.push(`!${requirement.key}`);
        break;
    }
  }
  return terms.join(',');
}
