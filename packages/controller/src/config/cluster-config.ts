/**
 * The QKE cluster config, `qingcloud.yaml` (ConfigMap kube-system/clusterconfig, key `qingcloud.yaml`; spec
 * ipam-controller 1.5). The controller uses `clusterID` and `securityGroup` (the security-group rule) and
 * `tagIDs` (NICs carrying one of them belong to this cluster). Absent on non-QKE clusters: no rule then.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';

export const CLUSTER_CONFIGMAP = { namespace: 'kube-system', name: 'clusterconfig', key: 'qingcloud.yaml' } as const;

export interface ClusterConfig {
  readonly zone?: string | undefined;
  readonly clusterId?: string | undefined;
  readonly securityGroup?: string | undefined;
  readonly tagIds: readonly string[];
}

export const NO_CLUSTER_CONFIG: ClusterConfig = Object.freeze({ tagIds: Object.freeze([]) as readonly string[] });

export class ClusterConfigError extends Error {
  override name = 'ClusterConfigError';
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

function optionalString(doc: Record<string, unknown>, key: string, source: string): string | undefined {
  const value = doc[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ClusterConfigError(key, `${source}: ${key} must be a string, got ${JSON.stringify(value)}`);
  return value.trim() === '' ? undefined : value.trim();
}

/** Parses qingcloud.yaml; unknown keys (defaultVxNetForLB, isApp, instanceIDs, ...) are ignored. */
export function parseClusterConfig(text: string, source: string = CLUSTER_CONFIGMAP.key): ClusterConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    const where = e instanceof YAMLParseError ? ` (${e.message})` : '';
    throw new ClusterConfigError('qingcloud.yaml', `${source} is not valid YAML${where}`);
  }
  if (doc === null || doc === undefined) return NO_CLUSTER_CONFIG;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ClusterConfigError('qingcloud.yaml', `${source} must be a YAML mapping of keys like clusterID: cl-xxxx`);
  const map = doc as Record<string, unknown>;
  const tags = map['tagIDs'];
  let tagIds: string[] = [];
  if (Array.isArray(tags)) {
    tagIds = tags.map((t, i) => {
      if (typeof t !== 'string') throw new ClusterConfigError(`tagIDs[${i}]`, `${source}: tagIDs[${i}] must be a tag ID string`);
      return t;
    });
  } else if (typeof tags === 'string' && tags !== '') {
    tagIds = tags.split(',').map((t) => t.trim()).filter((t) => t !== '');
  } else if (tags !== undefined && tags !== null && tags !== '') {
    throw new ClusterConfigError('tagIDs', `${source}: tagIDs must be a list of tag IDs`);
  }
  return {
    zone: optionalString(map, 'zone', source),
    clusterId: optionalString(map, 'clusterID', source),
    securityGroup: optionalString(map, 'securityGroup', source),
    tagIds,
  };
}
