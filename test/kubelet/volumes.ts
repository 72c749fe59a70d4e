// The files the kubelet writes for a pod volume that comes from a ConfigMap or a Secret (all keys,
// or the `items` chosen, under their `path`), or why it cannot yet (the object or a key is
// missing: the kubelet then keeps the pod from starting). Pure.
import type { KubeObject } from '../../operator/kube/resource.ts';

export interface KeyToPath {
  readonly key: string;
  readonly path: string;
}

export interface PodVolume {
  readonly name: string;
  readonly configMap?: {
    readonly name: string;
    readonly items?: readonly KeyToPath[];
    readonly optional?: boolean;
  };
  readonly secret?: {
    readonly secretName: string;
    readonly items?: readonly KeyToPath[];
    readonly optional?: boolean;
  };
  readonly emptyDir?: Record<string, unknown>;
  readonly persistentVolumeClaim?: { readonly claimName: string };
}

export interface DataObject extends KubeObject {
  readonly data?: Readonly<Record<string, string>>;
  readonly binaryData?: Readonly<Record<string, string>>;
}

export type VolumeFiles =
  | { readonly ok: true; readonly files: Readonly<Record<string, Buffer>> }
  | { readonly ok: false; readonly reason: string };

/** Where a volume's content comes from: `configmap/<name>`, `secret/<name>`, or undefined (a directory). */
export function volumeSource(volume: PodVolume): string | undefined {
  if (volume.configMap !== undefined) return `configmap/${volume.configMap.name}`;
  if (volume.secret !== undefined) return `secret/${volume.secret.secretName}`;
  return undefined;
}

export function volumeFiles(volume: PodVolume, source: DataObject | undefined): VolumeFiles {
  const reference = volume.configMap ?? volume.secret;
  if (reference === undefined) return { ok: true, files: {} };
  const what = volumeSource(volume) ?? '';
  if (source === undefined) {
    return reference.optional === true ? { ok: true, files: {} } : { ok: false, reason: `${what} not found` };
  }
  const all = new Map<string, Buffer>();
  // Secret data and ConfigMap binaryData are base64; ConfigMap data is text.
  const textData = volume.configMap !== undefined;
  for (const [key, value] of Object.entries(source.data ?? {})) {
    all.set(key, textData ? Buffer.from(value) : Buffer.from(value, 'base64'));
  }
  for (const [key, value] of Object.entries(source.binaryData ?? {}))
    all.set(key, Buffer.from(value, 'base64'));
  if (reference.items === undefined) return { ok: true, files: Object.fromEntries(all) };
  const files: Record<string, Buffer> = {};
  for (const { key, path } of reference.items) {
    const content = all.get(key);
    if (content === undefined) {
      if (reference.optional === true) continue;
      return { ok: false, reason: `${what} has no key "${key}"` };
    }
    files[path] = content;
  }
  return { ok: true, files };
}
