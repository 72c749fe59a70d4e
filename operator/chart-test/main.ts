// `helm test` for the chart (templates/tests/operator-test.yaml runs it in the operator image): the
// CRDs are established and the operator answers on its metrics Service. Prints one line per check
// and exits 1 when any fails. Flags: --crds=<name,...> --metrics-url=<url> --metrics-secure=<bool>
// [--kubeconfig=<path>] (in the cluster: the pod's ServiceAccount, which may read CRDs).
import { request as httpsRequest } from 'node:https';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { isNotFound, KubeClient } from '../kube/client.ts';
import { crdProblem, metricsProblem, type CrdView } from './checks.ts';

async function readCrd(client: KubeClient, name: string): Promise<CrdView | undefined> {
  try {
    return await client.request<CrdView>({
      verb: 'get',
      path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
    });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** One GET; TLS unverified, since nothing secret is sent and only the operator's answer is checked. */
function getOnce(url: string): Promise<{ status: number; body: string }> {
  if (url.startsWith('http:')) {
    return fetch(url).then(async (response) => ({ status: response.status, body: await response.text() }));
  }
  return new Promise((resolve, reject) => {
    const request = httpsRequest(url, { rejectUnauthorized: false, timeout: 10_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    request.on('timeout', () => request.destroy(new Error(`${url}: no answer in 10 s`)));
    request.on('error', reject);
    request.end();
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      crds: { type: 'string', default: '' },
      'metrics-url': { type: 'string' },
      'metrics-secure': { type: 'string', default: 'false' },
      kubeconfig: { type: 'string' },
    },
  });
  const config = new KubeConfig();
  if (values.kubeconfig === undefined) config.loadFromCluster();
  else config.loadFromFile(values.kubeconfig);
  const client = new KubeClient(config);
  const problems: string[] = [];
  for (const name of values.crds.split(',').filter((entry) => entry !== '')) {
    const problem = crdProblem(name, await readCrd(client, name));
    console.log(problem ?? `ok: CRD ${name} is established`);
    if (problem !== undefined) problems.push(problem);
  }
  const url = values['metrics-url'];
  if (url !== undefined) {
    const answer = await getOnce(url).catch((error: unknown) => ({
      status: 0,
      body: error instanceof Error ? error.message : String(error),
    }));
    const problem =
      answer.status === 0
        ? `the operator does not answer at ${url}: ${answer.body}`
        : metricsProblem(values['metrics-secure'] === 'true', answer.status, answer.body);
    console.log(problem ?? `ok: the operator answers at ${url}`);
    if (problem !== undefined) problems.push(problem);
  }
  return problems.length === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = await main();
