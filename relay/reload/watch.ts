// Triggers a reload when the config file or a file it references changes. Kubernetes updates a
// ConfigMap/Secret mount by swapping the `..data` symlink in the mounted directory, which never
// changes the watched file itself: so the DIRECTORIES are watched, and an event there for one of
// the watched names, or for the atomic writer's own entries (`..data`, `..<timestamp>`), schedules
// a (debounced) reload that re-reads everything. Other files in those directories are not ours: a
// log file written beside the config must not reload the relay every time the log pauses.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/** Whether an event for `name` (as fs.watch reports it; null when the platform does not say) concerns `watched`. */
export function concernsWatched(name: string | null, watched: ReadonlySet<string>): boolean {
  if (name === null) return true;
  return watched.has(name) || name.startsWith('..');
}

export interface FileWatch {
  /** Re-targets the watch after a reload (the set of referenced files may have changed). */
  update(files: readonly string[]): void;
  close(): void;
}

export function watchFiles(files: readonly string[], onChange: () => void, debounceMs = 200): FileWatch {
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  // The names watched in each directory; the watchers read it at each event, so an update applies at once.
  const names = new Map<string, Set<string>>();
  const update = (next: readonly string[]): void => {
    names.clear();
    for (const file of next) {
      const directory = dirname(file);
      names.set(directory, (names.get(directory) ?? new Set()).add(basename(file)));
    }
    for (const [directory, watcher] of watchers) {
      if (!names.has(directory)) {
        watcher.close();
        watchers.delete(directory);
      }
    }
    for (const directory of names.keys()) {
      if (watchers.has(directory)) continue;
      try {
        const watcher = watch(directory, { persistent: false }, (_event, name) => {
          if (concernsWatched(name, names.get(directory) ?? new Set())) schedule();
        });
        watcher.on('error', () => {
          watchers.delete(directory);
        });
        watchers.set(directory, watcher);
      } catch {
        // A directory that does not exist yet is picked up by the next reload (SIGHUP).
      }
    }
  };
  update(files);
  return {
    update,
    close() {
      clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
