// ServiceAccount tokens from a real API server: namespaces and ServiceAccounts made through the
// API, tokens minted by its TokenRequest API (what the kubelet does for a projected volume), the
// issuer's keys read from its OIDC discovery document and JWKS, and TokenReview for comparison.
import { kubeRequest, type KubeResponse } from './control-plane.ts';

export interface KubeTarget {
  readonly server: string;
  readonly caPath: string;
  readonly adminToken: string;
}

const json = { contentType: 'application/json' };

function expectStatus(response: KubeResponse, allowed: readonly number[], what: string): KubeResponse {
  if (!allowed.includes(response.status)) throw new Error(`${what}: ${response.status} ${response.body}`);
  return response;
}

/** POSTs `object` as JSON; a status not in `allowed` throws with `what`. */
async function post(
  target: KubeTarget,
  path: string,
  object: unknown,
  allowed: readonly number[],
  what: string,
): Promise<KubeResponse> {
  const response = await kubeRequest(target, 'POST', path, { ...json, body: JSON.stringify(object) });
  return expectStatus(response, allowed, what);
}

/** Creates the namespace and ServiceAccount (either may exist already). */
export async function createServiceAccount(
  target: KubeTarget,
  namespace: string,
  name: string,
): Promise<void> {
  const namespaceObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } };
  await post(target, '/api/v1/namespaces', namespaceObject, [201, 409], `create namespace ${namespace}`);
  const account = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } };
  await post(
    target,
    `/api/v1/namespaces/${namespace}/serviceaccounts`,
    account,
    [201, 409],
    `create serviceaccount ${namespace}/${name}`,
  );
}

export async function deleteServiceAccount(
  target: KubeTarget,
  namespace: string,
  name: string,
): Promise<void> {
  expectStatus(
    await kubeRequest(target, 'DELETE', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}`),
    [200],
    `delete serviceaccount ${namespace}/${name}`,
  );
}

/**
 * A token minted by the API server's TokenRequest API; no audiences: the API server's own. With
 * `boundPod`, bound to that Pod as the kubelet's projected tokens are: the API server then names the
 * pod in the request's user info (`authentication.kubernetes.io/pod-name`).
 */
export async function requestToken(
  target: KubeTarget,
  namespace: string,
  name: string,
  options: {
    audiences?: readonly string[];
    expirationSeconds?: number;
    boundPod?: { readonly name: string; readonly uid: string };
  } = {},
): Promise<string> {
  const tokenRequest = {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      ...(options.audiences ? { audiences: options.audiences } : {}),
      expirationSeconds: options.expirationSeconds ?? 600,
      ...(options.boundPod ? { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', ...options.boundPod } } : {}),
    },
  };
  const response = await post(
    target,
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    tokenRequest,
    [201],
    `TokenRequest for ${namespace}/${name}`,
  );
  return (JSON.parse(response.body) as { status: { token: string } }).status.token;
}

/**
 * A token of the ServiceAccount bound to a new Pod of that name, as the kubelet projects one into
 * its pod. The Pod is only an object: with no node it is never scheduled, and it mounts no token.
 */
export async function podBoundToken(
  target: KubeTarget,
  namespace: string,
  serviceAccount: string,
  podName: string,
): Promise<string> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName },
    spec: {
      serviceAccountName: serviceAccount,
      automountServiceAccountToken: false,
      containers: [{ name: 'main', image: 'mailfleet-test:never-pulled' }],
    },
  };
  const path = `/api/v1/namespaces/${namespace}/pods`;
  const response = await post(target, path, pod, [201], `create pod ${namespace}/${podName}`);
  const uid = (JSON.parse(response.body) as { metadata: { uid: string } }).metadata.uid;
  return requestToken(target, namespace, serviceAccount, { boundPod: { name: podName, uid } });
}

/** What the API server itself says of a token (TokenReview): authenticated, and as whom. */
export async function reviewToken(
  target: KubeTarget,
  token: string,
  audiences: readonly string[],
): Promise<{ authenticated: boolean; username: string | undefined }> {
  const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } };
  const path = '/apis/authentication.k8s.io/v1/tokenreviews';
  const response = await post(target, path, review, [201], 'TokenReview');
  const status = (
    JSON.parse(response.body) as {
      status: { authenticated?: boolean; user?: { username?: string } };
    }
  ).status;
  return { authenticated: status.authenticated === true, username: status.user?.username };
}

export interface IssuerKeys {
  readonly issuer: string;
  readonly keys: readonly Record<string, string>[];
}

/** The issuer from /.well-known/openid-configuration and its keys from /openid/v1/jwks. */
export async function issuerKeys(target: KubeTarget): Promise<IssuerKeys> {
  const discovery = expectStatus(
    await kubeRequest(target, 'GET', '/.well-known/openid-configuration'),
    [200],
    'OIDC discovery',
  );
  const jwks = expectStatus(await kubeRequest(target, 'GET', '/openid/v1/jwks'), [200], 'JWKS');
  return {
    issuer: (JSON.parse(discovery.body) as { issuer: string }).issuer,
    keys: (JSON.parse(jwks.body) as { keys: Record<string, string>[] }).keys,
  };
}
