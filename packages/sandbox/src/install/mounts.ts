import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { getObject, getString, isJsonObject } from '../kube/json.ts';
import type { JsonObject, JsonValue } from '../kube/json.ts';

/** A file a ConfigMap or Secret volume puts into a container. */
export interface MountedFile {
  /** Absolute path inside the container, e.g. /etc/hostnic/hostnic.json. */
  readonly path: string;
  readonly content: Buffer;
  /** `configMap/hostnic-cfg-cm` or `secret/qcsecret`. */
  readonly source: string;
}

/** A hostPath volume mounted into the container: the node directory behind a container path. */
export interface HostPathMount {
  readonly mountPath: string;
  readonly hostPath: string;
}

export interface ContainerMounts {
  readonly files: readonly MountedFile[];
  readonly hostPaths: readonly HostPathMount[];
}

/** A volume or mount names an object that is not there, or the workload has no such container. */
export class MountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MountError';
  }
}

const list = (value: JsonValue | undefined): JsonObject[] => (Array.isArray(value) ? value.filter(isJsonObject) : []);

/** key → bytes of a ConfigMap (data, binaryData) or a Secret (data, base64). */
function entries(obj: JsonObject, secret: boolean): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [key, value] of Object.entries(getObject(obj, 'data') ?? {})) {
    if (typeof value === 'string') out.set(key, secret ? Buffer.from(value, 'base64') : Buffer.from(value, 'utf8'));
  }
  if (!secret) {
    for (const [key, value] of Object.entries(getObject(obj, 'binaryData') ?? {})) {
      if (typeof value === 'string') out.set(key, Buffer.from(value, 'base64'));
    }
  }
  return out;
}

/**
 * The files a workload's container sees through its ConfigMap and Secret volumes (honouring `items` and
 * `subPath`), and its hostPath mounts, read from the pod template as the kubelet reads it. `objects` holds the
 * ConfigMaps and Secrets by name.
 */
export function containerMounts(
  workload: JsonObject,
  container: string,
  objects: { configMaps: ReadonlyMap<string, JsonObject>; secrets: ReadonlyMap<string, JsonObject> },
): ContainerMounts {
  const podSpec = getObject(getObject(getObject(workload, 'spec') ?? {}, 'template') ?? {}, 'spec') ?? {};
  const workloadName = getString(getObject(workload, 'metadata'), 'name') ?? '?';
  const c = [...list(podSpec['initContainers']), ...list(podSpec['containers'])].find((x) => x['name'] === container);
  if (!c) throw new MountError(`${workloadName} has no container named ${container}`);
  const volumes = new Map(list(podSpec['volumes']).map((v) => [getString(v, 'name') ?? '', v]));
  const files: MountedFile[] = [];
  const hostPaths: HostPathMount[] = [];
  for (const mount of list(c['volumeMounts'])) {
    const mountPath = getString(mount, 'mountPath') ?? '';
    const volumeName = getString(mount, 'name') ?? '';
    const volume = volumes.get(volumeName);
    if (!volume) throw new MountError(`${workloadName}/${container} mounts volume ${volumeName}, which the pod template does not declare`);
    const hostPath = getObject(volume, 'hostPath');
    if (hostPath) {
      hostPaths.push({ mountPath, hostPath: getString(hostPath, 'path') ?? '' });
      continue;
    }
    const configMap = getObject(volume, 'configMap');
    const secret = getObject(volume, 'secret');
    const sourceName = configMap ? getString(configMap, 'name') : secret ? getString(secret, 'secretName') : undefined;
    if (sourceName === undefined) continue;
    const source = configMap ? `configMap/${sourceName}` : `secret/${sourceName}`;
    const obj = (configMap ? objects.configMaps : objects.secrets).get(sourceName);
    if (!obj) throw new MountError(`${workloadName}/${container} mounts ${source}, which is not there: create it first`);
    const data = entries(obj, secret !== undefined);
    const items = list((configMap ?? secret ?? {})['items']);
    // Without items every key is a file named after it; with items only the listed keys, at their paths.
    const layout = items.length > 0 ? items.map((i) => [getString(i, 'key') ?? '', getString(i, 'path') ?? ''] as const) : [...data.keys()].map((key) => [key, key] as const);
    const subPath = getString(mount, 'subPath');
    for (const [key, path] of layout) {
      const content = data.get(key);
      if (content === undefined) throw new MountError(`${source} has no key ${key}, which ${workloadName}/${container} mounts`);
      if (subPath !== undefined && subPath !== path) continue;
      files.push({ path: subPath !== undefined ? mountPath : posix.join(mountPath, path), content, source });
    }
  }
  return { files, hostPaths };
}

/** Writes the files under `root` (a container path /etc/hostnic/x becomes <root>/etc/hostnic/x), mode 0600. */
export async function writeMountedFiles(root: string, files: readonly MountedFile[]): Promise<string[]> {
  const written: string[] = [];
  for (const file of files) {
    const target = join(root, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content, { mode: 0o600 });
    written.push(target);
  }
  return written;
}
