// Triggers a reload when the config file or a file it references changes. Kubernetes updates a
// ConfigMap/Secret mount by swapping the `..data` symlink in the mounted directory, which never
// changes the watched file itself: so the DIRECTORIES are watched, and any event there schedules a
// (debounced) reload that re-reads everything. A reload that finds nothing changed is harmless.
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

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
  const update = (next: readonly string[]): void => {
    const directories = new Set(next.map((file) => dirname(file)));
    for (const [directory, watcher] of watchers) {
      if (!directories.has(directory)) {
        watcher.close();
        watchers.delete(directory);
      }
    }
    for (const directory of directories) {
      if (watchers.has(directory)) continue;
      try {
        const watcher = watch(directory, { persistent: false }, schedule);
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
