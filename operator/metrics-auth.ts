// Who may read the operator's metrics (case 38), decided by the API server as kubebuilder's
// metrics filter does: the bearer token is checked with a TokenReview, and the user it belongs to
// must be allowed `get` on the non-resource URL (e.g. /metrics) by a SubjectAccessReview, which RBAC
// answers (the chart's `<release>-metrics-reader` ClusterRole grants it). No token: 401; a token the
// API server does not know: 401; a known user without that permission: 403.
import type { KubeClient } from './kube/client.ts';

export type MetricsAccess =
  | { readonly allowed: true; readonly user: string }
  | { readonly allowed: false; readonly status: 401 | 403; readonly reason: string };

interface TokenReview {
  status?: {
    authenticated?: boolean;
    user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  };
}

interface SubjectAccessReview {
  status?: { allowed?: boolean; reason?: string };
}

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

export async function metricsAccess(
  client: Pick<KubeClient, 'request'>,
  authorization: string | undefined,
  path: string,
): Promise<MetricsAccess> {
  const token = bearerToken(authorization);
  if (token === undefined) return { allowed: false, status: 401, reason: 'no bearer token' };
  const review = await client.request<TokenReview>({
    verb: 'create',
    path: '/apis/authentication.k8s.io/v1/tokenreviews',
    unfenced: true,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
  });
  const user = review.status?.user;
  if (review.status?.authenticated !== true || user?.username === undefined) {
    return { allowed: false, status: 401, reason: 'the token was not accepted by the API server' };
  }
  const access = await client.request<SubjectAccessReview>({
    verb: 'create',
    path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    unfenced: true,
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: user.username,
        ...(user.uid === undefined ? {} : { uid: user.uid }),
        groups: user.groups ?? [],
        ...(user.extra === undefined ? {} : { extra: user.extra }),
        nonResourceAttributes: { path, verb: 'get' },
      },
    },
  });
  if (access.status?.allowed !== true) {
    return { allowed: false, status: 403, reason: `${user.username} may not get ${path}` };
  }
  return { allowed: true, user: user.username };
}
