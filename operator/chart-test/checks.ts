// What `helm test` checks, as plain functions of what was read: each returns the problem, naming
// what was expected, or undefined when the check holds.

interface CrdCondition {
  readonly type?: string;
  readonly status?: string;
  readonly message?: string;
}

export interface CrdView {
  readonly status?: { readonly conditions?: readonly CrdCondition[] };
}

/** A CRD the API server serves: its Established condition is True. */
export function crdProblem(name: string, crd: CrdView | undefined): string | undefined {
  if (crd === undefined)
    return `CRD ${name} is not installed (helm install installs crds/; see docs/install.md)`;
  const established = crd.status?.conditions?.find((condition) => condition.type === 'Established');
  if (established?.status === 'True') return undefined;
  return `CRD ${name} is not established (Established: ${established?.status ?? 'absent'}${established?.message ? `, ${established.message}` : ''})`;
}

/**
 * The operator answers on its metrics Service: plain metrics answer 200 with the operator's own
 * series; secure metrics answer 401 to a request without a token, which the operator itself gives
 * (no token is sent to an endpoint whose certificate this pod cannot verify).
 */
export function metricsProblem(secure: boolean, status: number, body: string): string | undefined {
  if (secure)
    return status === 401 ? undefined : `secure metrics answered ${String(status)} without a token, not 401`;
  if (status !== 200) return `metrics answered ${String(status)}, not 200`;
  return body.includes('mailfleet_operator_leader')
    ? undefined
    : 'metrics answered 200 without mailfleet_operator_leader';
}
