// The status of an SmtpRelay from what the reconciler found: Ready, Progressing and Degraded, the
// scale subresource fields, the endpoints and the bound SenderDomains. Pure: the StatefulSet comes
// in as cached, the problems as computed; transition times are filled in by the StatusWriter.
import type {
  BoundSenderDomain,
  SenderDomain,
  SmtpRelay,
  SmtpRelayEndpoint,
} from '../api/types.generated.ts';
import type { DesiredStatus } from '../kube/status-diff.ts';
import type { KubeObject } from '../kube/resource.ts';
import { isPaused, pausedAnnotation, podSelector, serviceDnsNames } from '../render/relay-names.ts';
import type { SecretProblem } from './smtp-relay-secrets.ts';

export interface StatefulSetObject extends KubeObject {
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
  };
}

export interface SmtpRelayFindings {
  readonly relay: SmtpRelay;
  /** The StatefulSet as cached, undefined before it exists. */
  readonly statefulSet: StatefulSetObject | undefined;
  /** Why the rendered config cannot run: port conflicts, the relay's validation errors. */
  readonly configErrors: readonly string[];
  readonly secretProblems: readonly SecretProblem[];
  /** Objects that could not be applied, each naming the object and why. */
  readonly applyErrors: readonly string[];
  /** Settings the relay cannot honour and optional kinds not served, each naming the field. */
  readonly unsupported: readonly string[];
  /** Bound SenderDomains with why their mail is not signed, when it is not (undefined: fine). */
  readonly domains: readonly { readonly senderDomain: SenderDomain; readonly problem?: string | undefined }[];
  readonly clusterDomain: string;
}

type ConditionStatus = 'True' | 'False';

interface DesiredCondition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

const condition = (
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
): DesiredCondition => ({
  type,
  status,
  reason,
  message,
});

interface Rollout {
  readonly progressing: boolean;
  readonly reason: string;
  readonly message: string;
}

function rollout(relay: SmtpRelay, statefulSet: StatefulSetObject | undefined): Rollout {
  const name = relay.metadata.name ?? '';
  if (statefulSet === undefined) {
    return { progressing: true, reason: 'Creating', message: `StatefulSet ${name} is being created` };
  }
  const status = statefulSet.status ?? {};
  const wanted = relay.spec.replicas;
  const ready = status.readyReplicas ?? 0;
  const generation = statefulSet.metadata?.generation ?? 0;
  if ((status.observedGeneration ?? 0) < generation) {
    return {
      progressing: true,
      reason: 'RolloutPending',
      message: `StatefulSet ${name} has not yet observed its latest spec`,
    };
  }
  if (status.updateRevision !== undefined && status.currentRevision !== status.updateRevision) {
    return {
      progressing: true,
      reason: 'RollingUpdate',
      message: `rolling out revision ${status.updateRevision}: ${status.updatedReplicas ?? 0} of ${wanted} pods updated, ${ready} ready`,
    };
  }
  if ((status.replicas ?? 0) !== wanted || ready !== wanted) {
    return {
      progressing: true,
      reason: 'Scaling',
      message: `${ready} of ${wanted} pods ready (${status.replicas ?? 0} exist)`,
    };
  }
  return {
    progressing: false,
    reason: 'RolloutComplete',
    message: `all ${wanted} pods run the current revision and are ready`,
  };
}

function readyCondition(findings: SmtpRelayFindings, progress: Rollout): DesiredCondition {
  const [firstSecret] = findings.secretProblems;
  if (findings.configErrors.length > 0) {
    return condition(
      'Ready',
      'False',
      'InvalidConfig',
      `the relay cannot run this spec, nothing was applied: ${findings.configErrors.join('; ')}`,
    );
  }
  if (findings.applyErrors.length > 0) {
    return condition('Ready', 'False', 'ApplyFailed', findings.applyErrors.join('; '));
  }
  if (firstSecret !== undefined) {
    return condition(
      'Ready',
      'False',
      firstSecret.reason,
      findings.secretProblems.map((problem) => problem.message).join('; '),
    );
  }
  if (findings.relay.spec.replicas === 0) {
    return condition('Ready', 'False', 'ScaledToZero', 'spec.replicas is 0: no relay pod serves');
  }
  if (progress.progressing) return condition('Ready', 'False', progress.reason, progress.message);
  return condition('Ready', 'True', 'AllReplicasReady', progress.message);
}

function degradedCondition(findings: SmtpRelayFindings): DesiredCondition {
  const domainProblems = findings.domains.flatMap(({ problem }) => (problem === undefined ? [] : [problem]));
  const causes: [string, readonly string[]][] = [
    ['InvalidConfig', findings.configErrors],
    ['ApplyFailed', findings.applyErrors],
    ['SecretProblem', findings.secretProblems.map((problem) => problem.message)],
    ['SenderDomainKeysMissing', domainProblems],
    ['UnsupportedSettings', findings.unsupported],
  ];
  const present = causes.filter(([, messages]) => messages.length > 0);
  const [first] = present;
  if (first === undefined) return condition('Degraded', 'False', 'AsExpected', 'nothing needs attention');
  const reason = first[0] === 'SecretProblem' ? (findings.secretProblems[0]?.reason ?? first[0]) : first[0];
  return condition('Degraded', 'True', reason, present.flatMap(([, messages]) => messages).join('; '));
}

function endpoints(relay: SmtpRelay, clusterDomain: string): SmtpRelayEndpoint[] {
  const [host = ''] = serviceDnsNames(relay, clusterDomain);
  return relay.spec.listeners.map((listener) => ({
    listener: listener.name,
    host,
    port: listener.port,
    tls: listener.tls,
    auth: listener.auth,
  }));
}

/** The most status.senderDomains holds (the CRD's maxItems): more would make every status write fail. */
export const maxListedSenderDomains = 1000;

function boundDomains(findings: SmtpRelayFindings): BoundSenderDomain[] {
  const home = findings.relay.metadata.namespace;
  return findings.domains.slice(0, maxListedSenderDomains).map(({ senderDomain, problem }) => ({
    name: senderDomain.metadata.name ?? '',
    ...(senderDomain.metadata.namespace === home ? {} : { namespace: senderDomain.metadata.namespace ?? '' }),
    domain: senderDomain.spec.domain,
    ready:
      problem === undefined &&
      (senderDomain.status?.conditions ?? []).some(
        (entry) => entry.type === 'Ready' && entry.status === 'True',
      ),
  }));
}

export function smtpRelayStatus(findings: SmtpRelayFindings): DesiredStatus {
  const { relay, statefulSet } = findings;
  const progress = rollout(relay, statefulSet);
  return {
    conditions: [
      readyCondition(findings, progress),
      isPaused(relay)
        ? condition(
            'Progressing',
            'False',
            'Paused',
            `${pausedAnnotation}=true: the operator applies nothing to this relay until the annotation is removed`,
          )
        : condition(
            'Progressing',
            progress.progressing ? 'True' : 'False',
            progress.reason,
            progress.message,
          ),
      degradedCondition(findings),
    ],
    replicas: statefulSet?.status?.replicas ?? 0,
    readyReplicas: statefulSet?.status?.readyReplicas ?? 0,
    selector: podSelector(relay),
    endpoints: endpoints(relay, findings.clusterDomain),
    senderDomains: boundDomains(findings),
  };
}
