/**
 * Checks ConfigMap kube-system/hostnic-ipam-config (spec ipam-controller 5, 6 item 18) after the fact instead
 * of in a validating webhook, whose outage would block every ConfigMap write in the cluster: bad JSON, a
 * subnet under two namespaces, unknown blocks or pools, a bad `subnet-auto-assign`. Problems become
 * condition MappingValid on VxNetPool v-pool and a Warning Event on the ConfigMap, both saying what stays in
 * force: agents keep the last good mapping for what a bad change touches (`resolveIpamConfig` of
 * @hostnic/ipam), so the words are worked out the same way from the last good mapping this controller saw.
 */
import type { IpamStore } from '@hostnic/ipam';
import type { IpamConfig, ResolvedIpamConfig } from '@hostnic/ipam';
import {
  DEFAULT_MAPPING_KEY,
  IPAM_CONFIGMAP_NAME,
  IPAM_CONFIGMAP_NAMESPACE,
  parseIpamConfig,
  resolveIpamConfig,
  validateIpamConfig,
} from '@hostnic/ipam';
import type { EventSink } from '../event-sink.ts';
import type { ConditionInput } from '../resources/conditions.ts';
import { ConditionType } from '../resources/conditions.ts';

export interface MappingValidatorOptions {
  readonly store: IpamStore;
  readonly events: EventSink;
  readonly setCondition: (condition: ConditionInput) => Promise<void>;
}

export interface MappingReport {
  readonly valid: boolean;
  readonly problems: readonly string[];
}

const CONFIGMAP_REF = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: IPAM_CONFIGMAP_NAME, namespace: IPAM_CONFIGMAP_NAMESPACE },
};

/** Pure: problems of a parsed mapping against the pools and blocks that exist. */
export function unknownReferences(
  mapping: { readonly defaultPools: readonly string[]; readonly namespaces: ReadonlyMap<string, readonly string[]> },
  pools: ReadonlySet<string>,
  blocks: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  for (const [namespace, names] of mapping.namespaces) {
    for (const name of names) {
      if (!blocks.has(name)) problems.push(`namespace ${namespace}: block ${name} does not exist (list the names of IPAMBlocks, e.g. from status.pools[].subnets of VxNetPool v-pool)`);
    }
  }
  for (const pool of mapping.defaultPools) {
    if (!pools.has(pool)) problems.push(`${DEFAULT_MAPPING_KEY}: IPPool ${pool} does not exist (list vxnet IDs that are in spec.vxnets of VxNetPool v-pool)`);
  }
  return problems;
}

/**
 * Pure: what stays in force under a mapping with problems, in words: the keys that keep their last good entry,
 * those refused (no last good entry), and that every other namespace is untouched.
 */
export function fallbackWording(resolved: ResolvedIpamConfig): string {
  const kept: string[] = [];
  const refused: string[] = [];
  for (const [key, r] of [...resolved.refused].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) (r.keptLastGood ? kept : refused).push(key);
  const parts: string[] = [];
  if (resolved.refuseUnlisted !== undefined) {
    parts.push('no good mapping was seen before, so pods of every namespace are refused until the ConfigMap is fixed');
  } else {
    parts.push('the last good mapping stays in force for what the problems touch');
    if (kept.length > 0) parts.push(`kept at their last good entry: ${kept.join(', ')}`);
    if (refused.length > 0) parts.push(`refused (no last good entry; their pods get no address until fixed): ${refused.join(', ')}`);
    parts.push('every other namespace is unaffected');
  }
  return parts.join('; ');
}

export class MappingValidator {
  readonly #o: MappingValidatorOptions;
  #lastKey: string | undefined;
  /** The mapping in force after the last sync, as the agents resolve it (undefined until one was good). */
  #inForce: IpamConfig | undefined;

  constructor(options: MappingValidatorOptions) {
    this.#o = options;
  }

  async sync(): Promise<MappingReport> {
    const current = await this.#o.store.getIpamConfig();
    let problems: string[];
    let condition: ConditionInput;
    if (current === undefined) {
      problems = [];
      condition = {
        type: ConditionType.MappingValid,
        status: 'False',
        reason: 'ConfigMapMissing',
        message: `ConfigMap ${IPAM_CONFIGMAP_NAMESPACE}/${IPAM_CONFIGMAP_NAME} does not exist: pods get no address until it maps namespaces to blocks or sets subnet-auto-assign: "on" (see the README)`,
      };
    } else {
      problems = validateIpamConfig(current.object).map((p) => p.message);
      let fallback: string | undefined;
      if (problems.length === 0) {
        const mapping = parseIpamConfig(current.object);
        this.#inForce = mapping;
        const pools = new Set((await this.#o.store.listPools()).map((p) => p.object.metadata.name));
        const blocks = new Set((await this.#o.store.listBlocks()).map((b) => b.object.metadata.name));
        problems = unknownReferences(mapping, pools, blocks);
      } else {
        const resolved = resolveIpamConfig(current.object, this.#inForce);
        fallback = fallbackWording(resolved);
        this.#inForce = resolved.config;
      }
      condition =
        problems.length === 0
          ? { type: ConditionType.MappingValid, status: 'True', reason: 'Valid', message: `${IPAM_CONFIGMAP_NAME} is valid` }
          : fallback === undefined
            ? { type: ConditionType.MappingValid, status: 'False', reason: 'InvalidMapping', message: problems.join('; ') }
            : { type: ConditionType.MappingValid, status: 'False', reason: 'InvalidMapping', message: `${problems.join('; ')}. ${fallback}` };
    }
    const key = `${condition.status}|${condition.message}`;
    if (key !== this.#lastKey) {
      if (problems.length > 0) {
        this.#o.events.event(CONFIGMAP_REF, 'Warning', 'InvalidIpamConfig', condition.message);
      }
      await this.#o.setCondition(condition);
      this.#lastKey = key;
    }
    return { valid: condition.status === 'True', problems };
  }
}
