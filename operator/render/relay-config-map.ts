// The ConfigMap holding the rendered relay config as YAML. The relay watches the mounted file and
// reloads it live (policy, users, limits, certificates); what it reads only at start is in the
// pod template's restart hash (relay-stateful-set.ts). Pure.
import { stringify } from 'yaml';
import type { RelayConfig } from '../../relay/config/types.ts';
import type { SmtpRelay } from '../api/types.generated.ts';
import type { KubeObject } from '../kube/resource.ts';
import { configFileName } from './relay-paths.ts';
import { objectNames, ownedMetadata } from './relay-names.ts';

export function renderConfigMap(relay: SmtpRelay, config: RelayConfig): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: ownedMetadata(relay, objectNames.configMap(relay)),
    data: {
      [configFileName]: `# Rendered by mailfleet-operator from SmtpRelay ${relay.metadata.name ?? ''}; edits are overwritten.\n${stringify(config, { lineWidth: 0 })}`,
    },
  };
}
