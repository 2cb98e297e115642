/**
 * Which QingCloud instances are (or were) nodes of this cluster. The NIC janitor needs both: NICs named after
 * a current node belong to a live agent, NICs named after a departed node are leftovers it may remove.
 * Departed instances are remembered (and persisted by the controller) because once a Node object is deleted
 * nothing else in the cluster says that its instance ever was ours.
 */
import type { Node } from '../kube/objects.ts';

/** Set by QKE; the original ipam-check tool and IPAM read it [compat]. */
export const INSTANCE_ID_ANNOTATION = 'node.beta.kubernetes.io/instance-id';

const INSTANCE_ID = /^i-[0-9a-z]+$/;

export function isInstanceId(value: string): boolean {
  return INSTANCE_ID.test(value);
}

/**
 * The node's instance id: the annotation, else the last segment of `spec.providerID`
 * (`qingcloud://i-x`, `qingcloud:///zone/i-x`), else the node name when it is an instance id (QKE names
 * nodes after their instances). Values that do not look like an instance id are passed over rather than
 * trusted, so a typo cannot make the janitor think a live node's NICs belong to nobody.
 */
export function instanceIdOfNode(node: Node): string | undefined {
  const annotated = node.metadata?.annotations?.[INSTANCE_ID_ANNOTATION]?.trim();
  if (annotated !== undefined && isInstanceId(annotated)) return annotated;
  const provider = node.spec?.providerID?.trim();
  if (provider) {
    const last = provider.split('/').filter((s) => s !== '').at(-1);
    if (last !== undefined && isInstanceId(last)) return last;
  }
  const name = node.metadata?.name;
  if (name !== undefined && isInstanceId(name)) return name;
  return undefined;
}

/** What the NIC planner needs to know about instances. */
export interface InventoryView {
  /** Instance ids of the current nodes. */
  readonly current: ReadonlySet<string>;
  /** Instances that were nodes and are no longer: id → when they were first seen gone (ms). */
  readonly departed: ReadonlyMap<string, number>;
  /**
   * Current nodes whose instance id is unknown. While there are any, an instance that is neither current nor
   * departed may still be one of them, so the janitor leaves NICs attached to unknown instances alone.
   */
  readonly unidentified: number;
}

export interface NodeInventoryOptions {
  /** Departed instances are forgotten this long after they left (default 7 days). */
  readonly departedRetentionMs?: number;
  /** At most this many departed instances are remembered; the oldest departures go first (default 5000). */
  readonly maxDeparted?: number;
}

export const DEFAULT_DEPARTED_RETENTION_MS = 7 * 24 * 3600_000;
/** About 60 bytes each in JSON: stays far below a ConfigMap's 1 MiB. */
export const DEFAULT_MAX_DEPARTED = 5000;

/** What one `observe` changed. */
export interface InventoryChange {
  /** Instances seen as nodes for the first time. */
  readonly joined: readonly string[];
  /** Instances that were departed and are nodes again. */
  readonly returned: readonly string[];
  /** Instances that stopped being nodes. */
  readonly departed: readonly string[];
  /** Departed instances dropped because of age or the size bound. */
  readonly forgotten: readonly string[];
  /** Names of nodes whose instance id could not be determined. */
  readonly unidentified: readonly string[];
}

interface Entry {
  /** current: first seen as a node; departed: first seen gone. */
  since: number;
  node: string;
}

const FORMAT_VERSION = 1;

/** A persisted inventory that could be read only in part. */
export interface ParsedInventory {
  readonly inventory: NodeInventory;
  /** What was ignored and why; empty when the text was clean. */
  readonly problems: readonly string[];
}

export class InventoryOptionsError extends Error {
  override name = 'InventoryOptionsError';
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new InventoryOptionsError(`${name} must be a positive number, got ${v}`);
  return v;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Current and departed nodes by instance id. Pure: time comes in as `now`, persistence is the caller's
 * (`toJSON` / `fromJSON`).
 */
export class NodeInventory implements InventoryView {
  readonly #current = new Map<string, Entry>();
  readonly #departed = new Map<string, Entry>();
  readonly #retentionMs: number;
  readonly #maxDeparted: number;
  #unidentified = 0;

  constructor(options: NodeInventoryOptions = {}) {
    this.#retentionMs = positive('departedRetentionMs', options.departedRetentionMs, DEFAULT_DEPARTED_RETENTION_MS);
    this.#maxDeparted = Math.floor(positive('maxDeparted', options.maxDeparted, DEFAULT_MAX_DEPARTED));
  }

  get current(): ReadonlySet<string> {
    return new Set(this.#current.keys());
  }

  get departed(): ReadonlyMap<string, number> {
    return new Map([...this.#departed].map(([id, e]) => [id, e.since]));
  }

  get unidentified(): number {
    return this.#unidentified;
  }

  /** The node name an instance has or had, for logs. */
  nodeNameOf(instanceId: string): string | undefined {
    return (this.#current.get(instanceId) ?? this.#departed.get(instanceId))?.node;
  }

  /** Takes the complete current node list (a partial list would mark the missing nodes departed). */
  observe(nodes: readonly Node[], now: number): InventoryChange {
    const seen = new Map<string, string>();
    const unidentified: string[] = [];
    for (const node of nodes) {
      const name = node.metadata?.name ?? '';
      const id = instanceIdOfNode(node);
      if (id === undefined) unidentified.push(name);
      else seen.set(id, name);
    }
    const joined: string[] = [];
    const returned: string[] = [];
    const departed: string[] = [];
    for (const [id, node] of seen) {
      const entry = this.#current.get(id);
      if (entry !== undefined) {
        entry.node = node;
        continue;
      }
      if (this.#departed.delete(id)) returned.push(id);
      else joined.push(id);
      this.#current.set(id, { since: now, node });
    }
    for (const [id, entry] of this.#current) {
      if (seen.has(id)) continue;
      this.#current.delete(id);
      this.#departed.set(id, { since: now, node: entry.node });
      departed.push(id);
    }
    this.#unidentified = unidentified.length;
    return { joined, returned, departed, forgotten: this.prune(now), unidentified };
  }

  /** Drops departed instances past the retention, then the oldest beyond the size bound. */
  prune(now: number): string[] {
    const forgotten: string[] = [];
    for (const [id, entry] of this.#departed) {
      if (now - entry.since > this.#retentionMs) {
        this.#departed.delete(id);
        forgotten.push(id);
      }
    }
    forgotten.push(...this.#dropExcess());
    return forgotten;
  }

  #dropExcess(): string[] {
    const excess = this.#departed.size - this.#maxDeparted;
    if (excess <= 0) return [];
    const oldest = [...this.#departed].sort(([, a], [, b]) => a.since - b.since).slice(0, excess);
    for (const [id] of oldest) this.#departed.delete(id);
    return oldest.map(([id]) => id);
  }

  /**
   * The text the controller stores. Current nodes are kept too: a node deleted while the controller was down
   * is then seen departing at the first `observe` after the restart.
   */
  toJSON(): string {
    const dump = (m: Map<string, Entry>): Record<string, Entry> =>
      Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, e]) => [id, { ...e }]));
    return JSON.stringify({ version: FORMAT_VERSION, current: dump(this.#current), departed: dump(this.#departed) });
  }

  /** Never throws on bad text: whatever cannot be read is left out, see {@link NodeInventory.parse}. */
  static fromJSON(text: string | undefined, options: NodeInventoryOptions = {}): NodeInventory {
    return NodeInventory.parse(text, options).inventory;
  }

  /** Like `fromJSON`, and says what was ignored (for a warning). */
  static parse(text: string | undefined, options: NodeInventoryOptions = {}): ParsedInventory {
    const inventory = new NodeInventory(options);
    const problems: string[] = [];
    if (text === undefined || text.trim() === '') return { inventory, problems };
    let data: unknown;
    try {
      data = JSON.parse(text);
      // JSON.stringify(inventory) wraps the text from toJSON in a string literal; accept that form too.
      if (typeof data === 'string') data = JSON.parse(data);
    } catch (e) {
      problems.push(`not JSON: ${e instanceof Error ? e.message : String(e)}`);
      return { inventory, problems };
    }
    if (!isRecord(data)) {
      problems.push('not a JSON object');
      return { inventory, problems };
    }
    if (data['version'] !== FORMAT_VERSION) {
      problems.push(`unknown version ${JSON.stringify(data['version'])} (expected ${FORMAT_VERSION})`);
      return { inventory, problems };
    }
    const read = (key: 'current' | 'departed', into: Map<string, Entry>): void => {
      const section = data[key];
      if (section === undefined) return;
      if (!isRecord(section)) {
        problems.push(`${key}: not an object`);
        return;
      }
      for (const [id, value] of Object.entries(section)) {
        if (!isInstanceId(id)) {
          problems.push(`${key}: ${JSON.stringify(id)} is not an instance id`);
          continue;
        }
        const since = isRecord(value) ? value['since'] : undefined;
        if (typeof since !== 'number' || !Number.isFinite(since) || since < 0) {
          problems.push(`${key}.${id}: since must be a non-negative number`);
          continue;
        }
        const node = isRecord(value) && typeof value['node'] === 'string' ? value['node'] : '';
        into.set(id, { since, node });
      }
    };
    read('current', inventory.#current);
    read('departed', inventory.#departed);
    for (const id of inventory.#current.keys()) {
      if (inventory.#departed.delete(id)) problems.push(`${id}: both current and departed; kept as current`);
    }
    // Only the size bound here: the age bound needs a `now`, which the next observe brings.
    const dropped = inventory.#dropExcess();
    if (dropped.length > 0) {
      problems.push(`${dropped.length} departed instance(s) beyond the bound of ${inventory.#maxDeparted} dropped`);
    }
    return { inventory, problems };
  }
}
