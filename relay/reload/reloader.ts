// One reload at a time: load everything afresh, apply it when valid, keep the old settings and log
// why when not. Serialised so a burst of file events and a SIGHUP cannot interleave.
import { loadRelaySettings, referencedFiles } from '../config/load.ts';
import type { RelayLogger } from '../log.ts';
import type { RelayMetrics } from '../metrics.ts';
import type { DeliverySecrets } from '../delivery/service.ts';
import type { LiveSettings } from '../smtp/live-settings.ts';

export interface ReloaderDeps {
  readonly configPath: string;
  readonly current: () => LiveSettings;
  readonly apply: (settings: LiveSettings, secrets: DeliverySecrets) => void;
  readonly watched: (files: readonly string[]) => void;
  readonly logger: RelayLogger;
  readonly metrics: RelayMetrics;
}

export function createReloader(deps: ReloaderDeps): () => Promise<boolean> {
  let running: Promise<boolean> = Promise.resolve(true);
  const once = async (): Promise<boolean> => {
    const result = await loadRelaySettings(deps.configPath, deps.current());
    if (!result.ok) {
      // A Secret volume and the ConfigMap are refreshed separately: a config naming a key file that
      // has not arrived yet is refused, and the file's directory is watched so its arrival retries.
      deps.watched([
        deps.configPath,
        ...referencedFiles(deps.current().config),
        ...(result.referencedFiles ?? []),
      ]);
      deps.metrics.configReloads.inc({ result: 'refused' });
      deps.logger.error(
        { event: 'reload_refused', errors: result.errors },
        'new configuration refused; the old one keeps serving',
      );
      return false;
    }
    deps.apply(result.settings, result.secrets);
    deps.watched([deps.configPath, ...referencedFiles(result.settings.config)]);
    deps.metrics.configReloads.inc({ result: 'applied' });
    deps.logger.info({ event: 'reloaded' }, 'configuration reloaded');
    return true;
  };
  return () => {
    running = running.then(once, once);
    return running;
  };
}
