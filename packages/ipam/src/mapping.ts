/**
 * The namespace → subnet mapping of ConfigMap `kube-system/hostnic-ipam-config`: parsing and
 * validation, the choice of candidate pools or blocks for a pod, and the pure decisions of auto mode.
 *
 * @packageDocumentation
 */
import { compareBlockNames } from './blocks.ts';
import type { ConfigProblem } from './errors.ts';
import {
  InvalidConfigError, MappingRefusedError, NoPoolOrBlockError, NoSubnetForNamespaceError, VxNetPoolNotReadyError,
} from './errors.ts';
import { isDns1123Label } from './naming.ts';
import type { VxNetPoolStatus } from './types.ts';
import { CONFIG_KEY_AUTO_ASSIGN, CONFIG_KEY_IPAM, DEFAULT_MAPPING_KEY, VXNET_POOL_NAME } from './types.ts';

/** Mapping modes: `auto` when `subnet-auto-assign` is `on`, else `manual`. */
export const MappingMode = { Auto: 'auto', Manual: 'manual' } as const;
/** One of the values of {@link MappingMode}. */
export type MappingMode = (typeof MappingMode)[keyof typeof MappingMode];

/** The parsed `hostnic-ipam-config`. */
export interface IpamConfig {
  /** `auto` (the controller maps namespaces) or `manual` (the admin does). */
  readonly mode: MappingMode;
  /** IPPool (vxnet) names under `Default`, for namespaces without blocks (manual mode only). */
  readonly defaultPools: readonly string[];
  /** Namespace → IPAMBlock names, in configured order. */
  readonly namespaces: ReadonlyMap<string, readonly string[]>;
}

/** The `data` of the ConfigMap (other keys are ignored); undefined when the ConfigMap does not exist. */
export type IpamConfigMapData = Readonly<Record<string, string | undefined>> | null | undefined;

/** The configuration of a missing ConfigMap: manual mode, nothing mapped. */
export const EMPTY_IPAM_CONFIG: IpamConfig = Object.freeze({
  mode: MappingMode.Manual,
  defaultPools: Object.freeze([]) as readonly string[],
  namespaces: new Map<string, readonly string[]>(),
});

const FORMAT = 'ipam format error:';
const EXAMPLE = '{"Default": ["vxnet-abc1234"], "<namespace>": ["4100-172-16-3-0-26"]}';

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

interface Parsed {
  /** The usable part of the data: keys with a problem are left out. */
  readonly config: IpamConfig;
  readonly problems: readonly ConfigProblem[];
  /** Mapping keys the data got wrong, with the reason; both keys of a subnet listed twice. */
  readonly badKeys: ReadonlyMap<string, string>;
  /** Set when `ipam` as a whole cannot be used (not JSON, not an object). */
  readonly wholeProblem: string | undefined;
}

function parse(data: IpamConfigMapData): Parsed {
  const problems: ConfigProblem[] = [];
  const badKeys = new Map<string, string>();
  const auto = data?.[CONFIG_KEY_AUTO_ASSIGN];
  if (auto !== undefined && auto !== 'on' && auto !== 'off') {
    problems.push({
      key: CONFIG_KEY_AUTO_ASSIGN,
      message: `${CONFIG_KEY_AUTO_ASSIGN} must be "on" or "off", got ${JSON.stringify(auto)} (taken as "off", as the original did)`,
    });
  }
  // As the original: only "on" turns auto mode on.
  const mode = auto === 'on' ? MappingMode.Auto : MappingMode.Manual;
  const namespaces = new Map<string, readonly string[]>();
  let defaultPools: readonly string[] = [];
  let wholeProblem: string | undefined;

  const text = data?.[CONFIG_KEY_IPAM];
  let root: unknown = {};
  if (text !== undefined) {
    try {
      root = JSON.parse(text);
    } catch (error) {
      wholeProblem = `${FORMAT} ${CONFIG_KEY_IPAM} is not valid JSON (${(error as Error).message}); write an object like ${EXAMPLE}`;
      root = {};
    }
  }
  if (wholeProblem === undefined && (typeof root !== 'object' || root === null || Array.isArray(root))) {
    wholeProblem = `${FORMAT} ${CONFIG_KEY_IPAM} must be a JSON object of string arrays, got ${describe(root)}; write it like ${EXAMPLE}`;
    root = {};
  }
  if (wholeProblem !== undefined) problems.push({ key: CONFIG_KEY_IPAM, message: wholeProblem });

  const lists = new Map<string, string[]>();
  const owner = new Map<string, string>();
  for (const [key, value] of Object.entries(root as Record<string, unknown>)) {
    if (key !== DEFAULT_MAPPING_KEY && !isDns1123Label(key)) {
      const message = `${CONFIG_KEY_IPAM} key ${JSON.stringify(key)} is not a namespace name (lower-case RFC 1123 label, at most 63 characters); only "${DEFAULT_MAPPING_KEY}" may differ`;
      problems.push({ key, message });
      badKeys.set(key, message);
      continue;
    }
    // Go decodes null into an empty list; objects written for the Go version must still load.
    const list = value === null ? [] : value;
    if (!Array.isArray(list) || !list.every((item): item is string => typeof item === 'string' && item !== '')) {
      const message = `${FORMAT} ${CONFIG_KEY_IPAM} key ${JSON.stringify(key)} must map to an array of non-empty ${key === DEFAULT_MAPPING_KEY ? 'IPPool' : 'IPAMBlock'} names, got ${JSON.stringify(value)}`;
      problems.push({ key, message });
      badKeys.set(key, message);
      continue;
    }
    for (const name of new Set(list)) {
      const first = owner.get(name);
      if (first === undefined) {
        owner.set(name, key);
      } else {
        const message = `subnet ${name} was assigned to namespaces (${first} ${key}) which was not allowed`;
        problems.push({ key, message });
        // Both keys are touched by the clash; neither can be trusted to own the subnet.
        for (const k of [first, key]) if (!badKeys.has(k)) badKeys.set(k, message);
      }
    }
    lists.set(key, [...list]);
  }
  for (const [key, list] of lists) {
    if (badKeys.has(key)) continue;
    if (key === DEFAULT_MAPPING_KEY) defaultPools = list;
    else namespaces.set(key, list);
  }
  return { config: { mode, defaultPools, namespaces }, problems, badKeys, wholeProblem };
}

/** Why a namespace's entry of the new mapping is not in force. */
export interface MappingRefusal {
  /** What is wrong with the entry (or with the whole mapping). */
  readonly reason: string;
  /** True when the namespace's last good entry stands in for it. */
  readonly keptLastGood: boolean;
}

/** The mapping in force after a change: the valid part of the new data, the last good entries for the rest. */
export interface ResolvedIpamConfig {
  /** The mapping to allocate with. */
  readonly config: IpamConfig;
  /** Every problem of the new data (see {@link validateIpamConfig}). */
  readonly problems: readonly ConfigProblem[];
  /** Mapping keys (namespaces, `Default`) whose new entry was refused. */
  readonly refused: ReadonlyMap<string, MappingRefusal>;
  /**
   * Set when the whole `ipam` value is unusable and there was no last good mapping to keep: every namespace
   * without an entry is refused with this reason rather than sent to pools it was never meant for.
   */
  readonly refuseUnlisted: string | undefined;
}

/**
 * The mapping in force when the ConfigMap changes, as the original kept it: a bad change never takes a
 * namespace away from what it was mapped to. A broken `ipam` keeps the whole last good mapping; a bad entry
 * (not a namespace name, not a list, a subnet under two keys) keeps that key's last good entry, or refuses the
 * namespace with the reason when it had none; every valid entry takes effect. `subnet-auto-assign` other than
 * `on` means off. A block that a kept entry holds but a valid new entry now names goes to the new entry.
 * @param data - the ConfigMap's `data` (undefined: the ConfigMap does not exist)
 * @param lastGood - the mapping in force before (the previous result's `config`), if any
 */
export function resolveIpamConfig(data: IpamConfigMapData, lastGood: IpamConfig | undefined): ResolvedIpamConfig {
  const parsed = parse(data);
  const refused = new Map<string, MappingRefusal>();
  if (parsed.wholeProblem !== undefined) {
    const kept = lastGood ?? EMPTY_IPAM_CONFIG;
    for (const key of kept.namespaces.keys()) refused.set(key, { reason: parsed.wholeProblem, keptLastGood: true });
    return {
      config: { ...kept, mode: parsed.config.mode },
      problems: parsed.problems,
      refused,
      refuseUnlisted: lastGood === undefined ? parsed.wholeProblem : undefined,
    };
  }
  const namespaces = new Map(parsed.config.namespaces);
  let defaultPools = parsed.config.defaultPools;
  const claimed = new Set([...namespaces.values()].flat());
  for (const [key, reason] of parsed.badKeys) {
    const previous = key === DEFAULT_MAPPING_KEY ? lastGood?.defaultPools : lastGood?.namespaces.get(key);
    const kept = previous?.filter((name) => key === DEFAULT_MAPPING_KEY || !claimed.has(name));
    refused.set(key, { reason, keptLastGood: kept !== undefined && kept.length > 0 });
    if (kept === undefined || kept.length === 0) continue;
    if (key === DEFAULT_MAPPING_KEY) defaultPools = kept;
    else namespaces.set(key, kept);
  }
  return { config: { mode: parsed.config.mode, defaultPools, namespaces }, problems: parsed.problems, refused, refuseUnlisted: undefined };
}

/**
 * {@link allocationSources} under a resolved mapping: a namespace whose entry was refused and has no last good
 * entry fails with the reason instead of falling back to `Default`.
 * @throws {@link MappingRefusedError}, {@link NoPoolOrBlockError}
 */
export function resolvedAllocationSources(resolved: ResolvedIpamConfig, namespace: string): AllocationSource {
  const refusal = resolved.refused.get(namespace);
  const listed = (resolved.config.namespaces.get(namespace) ?? []).length > 0;
  if (refusal !== undefined && !listed) throw new MappingRefusedError(namespace, refusal.reason);
  if (!listed && resolved.refuseUnlisted !== undefined) throw new MappingRefusedError(namespace, resolved.refuseUnlisted);
  return allocationSources(resolved.config, namespace);
}

/**
 * Every problem of a `hostnic-ipam-config` ConfigMap, for admission webhooks: `subnet-auto-assign` not
 * `on`/`off`; `ipam` not JSON, not an object, or with a value that is not an array of non-empty strings (these
 * messages start with `ipam format error:` like Go's); a key that is neither `Default` nor a namespace name; a
 * subnet under two keys (`subnet b1 was assigned to namespaces (a b) which was not allowed`). Duplicates within
 * one key are allowed. An absent `ipam` is an empty mapping.
 * @param data - the ConfigMap's `data`
 * @returns the problems; empty when valid
 */
export function validateIpamConfig(data: IpamConfigMapData): ConfigProblem[] {
  return [...parse(data).problems];
}

/**
 * Parses `hostnic-ipam-config`. A missing ConfigMap (undefined/null data) gives {@link EMPTY_IPAM_CONFIG}.
 * @param data - the ConfigMap's `data`
 * @throws {@link InvalidConfigError} listing every problem (see {@link validateIpamConfig})
 */
export function parseIpamConfig(data: IpamConfigMapData): IpamConfig {
  const { config, problems } = parse(data);
  if (problems.length > 0) throw new InvalidConfigError(problems);
  return config;
}

/**
 * The `ipam` value of a configuration as the Go encoder writes it: compact JSON, keys sorted.
 * @param config - the configuration
 */
export function serializeIpamMapping(config: IpamConfig): string {
  const map: Record<string, readonly string[]> = {};
  if (config.defaultPools.length > 0) map[DEFAULT_MAPPING_KEY] = config.defaultPools;
  for (const [namespace, blocks] of config.namespaces) map[namespace] = blocks;
  const sorted: Record<string, readonly string[]> = {};
  for (const key of Object.keys(map).sort()) sorted[key] = map[key] ?? [];
  return JSON.stringify(sorted);
}

/** Where a pod's address may come from. */
export type AllocationSource =
  | { readonly kind: 'blocks'; readonly names: readonly string[] }
  | { readonly kind: 'pools'; readonly names: readonly string[] };

/**
 * The candidate sources for a pod: the namespace's blocks when it has any (both modes,
 * no fallback when they are full); otherwise, in manual mode only, the `Default` pools.
 * @param config - the parsed configuration
 * @param namespace - the pod's namespace
 * @throws {@link NoPoolOrBlockError} (`pool or block not found …`) when neither applies
 */
export function allocationSources(config: IpamConfig, namespace: string): AllocationSource {
  const blocks = config.namespaces.get(namespace) ?? [];
  if (blocks.length > 0) return { kind: 'blocks', names: [...blocks] };
  if (config.mode === MappingMode.Manual && config.defaultPools.length > 0) {
    return { kind: 'pools', names: [...config.defaultPools] };
  }
  throw new NoPoolOrBlockError(namespace, config.mode);
}

/**
 * Whether a namespace needs another block: every listed block that is known has 0 free
 * addresses. Unknown blocks are ignored, so a list of only unknown blocks — or an empty list — is exhausted.
 * @param blocks - the namespace's block names
 * @param freeByBlock - free address count per known block name
 */
export function isNamespaceExhausted(blocks: readonly string[], freeByBlock: ReadonlyMap<string, number>): boolean {
  return blocks.every((name) => (freeByBlock.get(name) ?? 0) === 0);
}

/**
 * The blocks auto mode must not hand out: every block named under a namespace key, plus every block of every
 * pool named under `Default` (as listed in the VxNetPool status).
 * @param config - the parsed configuration
 * @param status - the VxNetPool status
 */
export function usedBlocks(config: IpamConfig, status: VxNetPoolStatus | undefined): Set<string> {
  const used = new Set<string>();
  for (const blocks of config.namespaces.values()) for (const name of blocks) used.add(name);
  const defaults = new Set(config.defaultPools);
  for (const pool of status?.pools ?? []) {
    if (defaults.has(pool.ippool) || defaults.has(pool.name)) for (const name of pool.subnets ?? []) used.add(name);
  }
  return used;
}

/**
 * The first unused block: pools in VxNetPool status order, each pool's blocks in block order
 * (ascending address, see `compareBlockNames`, so the choice does not depend on how the status was written).
 * @param config - the parsed configuration
 * @param status - the VxNetPool status
 * @param namespace - the namespace that needs a block (for the error)
 * @throws {@link VxNetPoolNotReadyError} when the VxNetPool is not ready
 * @throws {@link NoSubnetForNamespaceError} (`no free subnet was found …`) when every block is used
 */
export function pickFreeBlock(config: IpamConfig, status: VxNetPoolStatus | undefined, namespace: string): string {
  if (status?.ready !== true) throw new VxNetPoolNotReadyError(VXNET_POOL_NAME);
  const used = usedBlocks(config, status);
  for (const pool of status.pools ?? []) {
    const candidates = [...(pool.subnets ?? [])].sort(compareBlockNames);
    const free = candidates.find((name) => !used.has(name));
    if (free !== undefined) return free;
  }
  throw new NoSubnetForNamespaceError(namespace);
}

/** What auto mode knows about one block. */
export interface BlockState {
  /** Free addresses. */
  readonly free: number;
  /** True when the block holds nothing but reserved addresses. */
  readonly empty: boolean;
}

/** Inputs of {@link decideNamespaceMapping}. */
export interface NamespaceMappingInput {
  /** The current configuration. */
  readonly config: IpamConfig;
  /** The namespace being processed. */
  readonly namespace: string;
  /** False when the namespace is gone or terminating. */
  readonly active: boolean;
  /** State of the known blocks, by name. */
  readonly blocks: ReadonlyMap<string, BlockState>;
  /** The VxNetPool status (needed only when a block must be picked). */
  readonly vxnetPool: VxNetPoolStatus | undefined;
}

/** The outcome of {@link decideNamespaceMapping}. */
export interface NamespaceMappingDecision {
  /** Whether `config` differs from the input (then write it back). */
  readonly changed: boolean;
  /** The new configuration. */
  readonly config: IpamConfig;
  /** The block appended to the namespace, when one was. */
  readonly added?: string;
  /** The blocks removed from the namespace, when any were. */
  readonly removed?: readonly string[];
}

function withNamespace(config: IpamConfig, namespace: string, blocks: readonly string[] | undefined): IpamConfig {
  const namespaces = new Map(config.namespaces);
  if (blocks === undefined) namespaces.delete(namespace);
  else namespaces.set(namespace, blocks);
  return { ...config, namespaces };
}

/**
 * The auto-mode decision for one namespace. Manual mode changes nothing. A gone or
 * terminating namespace gives back only its empty (or unknown) blocks — blocks still holding addresses stay
 * listed until they empty, and the key goes when the list does. An active namespace whose
 * list is missing or exhausted gets the first free block appended.
 * @param input - configuration, namespace, block states and VxNetPool status
 * @throws {@link VxNetPoolNotReadyError}, {@link NoSubnetForNamespaceError} when a block is needed but none
 *   can be picked
 */
export function decideNamespaceMapping(input: NamespaceMappingInput): NamespaceMappingDecision {
  const { config, namespace } = input;
  if (config.mode !== MappingMode.Auto) return { changed: false, config };
  const current = config.namespaces.get(namespace);
  if (!input.active) {
    if (current === undefined) return { changed: false, config };
    const keep = current.filter((name) => input.blocks.get(name)?.empty === false);
    const removed = current.filter((name) => !keep.includes(name));
    if (removed.length === 0) return { changed: false, config };
    return { changed: true, config: withNamespace(config, namespace, keep.length === 0 ? undefined : keep), removed };
  }
  const free = new Map([...input.blocks].map(([name, state]) => [name, state.free]));
  if (current !== undefined && !isNamespaceExhausted(current, free)) return { changed: false, config };
  const added = pickFreeBlock(config, input.vxnetPool, namespace);
  return { changed: true, config: withNamespace(config, namespace, [...(current ?? []), added]), added };
}
