/**
 * `ipam show`: utilisation per pool, block and namespace, and who holds an address. Pure: the data comes in,
 * report objects and text go out.
 */
import type { AllocationAttribute, IPAMBlock, IPAMHandle, IPPool, IpamUtilisation } from '@hostnic/ipam';
import {
  claimNodeOf,
  addressUse,
  AttributeKey,
  blockContains,
  cidrContains,
  formatIPv4,
  LABEL_POOL_NAME,
  ordinalOfAddress,
  parseBlockName,
  parseCidr,
  parseIPv4,
  parseTimestamp,
  sortBlocks,
} from '@hostnic/ipam';
import { formatFields, formatTable } from './table.ts';

/** One pool's figures; `usedPercent` is of the allocatable addresses (allocated + free). */
export interface PoolRow {
  readonly name: string;
  readonly blocks: number;
  readonly capacity: number;
  readonly reserved: number;
  readonly allocated: number;
  readonly free: number;
  /** null when the pool has no allocatable address at all. */
  readonly usedPercent: number | null;
}

export interface BlockRow {
  readonly name: string;
  readonly cidr: string | null;
  readonly pool: string | null;
  /** Namespaces whose mapping lists the block. */
  readonly namespaces: readonly string[];
  readonly capacity: number;
  readonly reserved: number;
  readonly allocated: number;
  readonly free: number;
  /** Free addresses still in their release cooldown (included in `free`). */
  readonly cooling: number;
}

export interface NamespaceRow {
  readonly namespace: string;
  /** Blocks mapped to it, in configured order. */
  readonly blocks: readonly string[];
  /** Addresses whose attributes name the namespace, wherever they are. */
  readonly addresses: number;
  /** Figures summed over the mapped blocks. */
  readonly capacity: number;
  readonly reserved: number;
  readonly allocated: number;
  readonly free: number;
}

/** What `ipam show` prints; the optional sections are present only when asked for. */
export interface ShowReport {
  readonly pools: readonly PoolRow[];
  readonly blocks?: readonly BlockRow[];
  readonly namespaces?: readonly NamespaceRow[];
}

function usedPercent(allocated: number, free: number): number | null {
  const allocatable = allocated + free;
  return allocatable === 0 ? null : Math.round((allocated / allocatable) * 10_000) / 100;
}

/**
 * The report of `ipam show`.
 * @param usage - from `Ipam.utilisation()`
 * @param options - which optional sections to include
 */
export function showReport(usage: IpamUtilisation, options: { blocks: boolean; namespaces: boolean }): ShowReport {
  const pools: PoolRow[] = usage.pools.map((p) => ({
    name: p.name,
    blocks: p.blocks,
    capacity: p.capacity,
    reserved: p.reserved,
    allocated: p.allocated,
    free: p.unallocated,
    usedPercent: usedPercent(p.allocated, p.unallocated),
  }));
  const mappedTo = new Map<string, string[]>();
  for (const ns of usage.namespaces) {
    for (const block of new Set(ns.blocks)) {
      const list = mappedTo.get(block);
      if (list === undefined) mappedTo.set(block, [ns.namespace]);
      else list.push(ns.namespace);
    }
  }
  const blocks: BlockRow[] = usage.blocks.map((b) => ({
    name: b.name,
    cidr: parseBlockName(b.name)?.cidr ?? null,
    pool: b.pool ?? null,
    namespaces: mappedTo.get(b.name) ?? [],
    capacity: b.capacity,
    reserved: b.reserved,
    allocated: b.allocated,
    free: b.unallocated,
    cooling: b.coolingDown,
  }));
  const namespaces: NamespaceRow[] = usage.namespaces.map((n) => ({
    namespace: n.namespace,
    blocks: n.blocks,
    addresses: n.addresses,
    capacity: n.capacity,
    reserved: n.reserved,
    allocated: n.allocated,
    free: n.unallocated,
  }));
  return {
    pools,
    ...(options.blocks ? { blocks } : {}),
    ...(options.namespaces ? { namespaces } : {}),
  };
}

const num = (n: number): string => String(n);
const list = (items: readonly string[]): string => (items.length === 0 ? '-' : items.join(','));

/**
 * The text of a {@link ShowReport}.
 * @param report - the report
 */
export function renderShowReport(report: ShowReport): string {
  const parts: string[] = [];
  if (report.pools.length === 0) parts.push('No IP pools.\n');
  else {
    parts.push(
      formatTable(
        [
          { header: 'POOL' },
          { header: 'BLOCKS', align: 'right' },
          { header: 'CAPACITY', align: 'right' },
          { header: 'RESERVED', align: 'right' },
          { header: 'ALLOCATED', align: 'right' },
          { header: 'FREE', align: 'right' },
          { header: 'USED', align: 'right' },
        ],
        report.pools.map((p) => [
          p.name,
          num(p.blocks),
          num(p.capacity),
          num(p.reserved),
          num(p.allocated),
          num(p.free),
          p.usedPercent === null ? '-' : `${p.usedPercent.toFixed(1)}%`,
        ]),
      ),
    );
  }
  if (report.blocks !== undefined) {
    parts.push(
      report.blocks.length === 0
        ? 'No IPAM blocks.\n'
        : formatTable(
            [
              { header: 'BLOCK' },
              { header: 'CIDR' },
              { header: 'POOL' },
              { header: 'NAMESPACES' },
              { header: 'CAPACITY', align: 'right' },
              { header: 'RESERVED', align: 'right' },
              { header: 'ALLOCATED', align: 'right' },
              { header: 'FREE', align: 'right' },
              { header: 'COOLING', align: 'right' },
            ],
            report.blocks.map((b) => [
              b.name,
              b.cidr ?? '-',
              b.pool ?? '-',
              list(b.namespaces),
              num(b.capacity),
              num(b.reserved),
              num(b.allocated),
              num(b.free),
              num(b.cooling),
            ]),
          ),
    );
  }
  if (report.namespaces !== undefined) {
    parts.push(
      report.namespaces.length === 0
        ? 'No namespace is mapped to blocks or holds addresses.\n'
        : formatTable(
            [
              { header: 'NAMESPACE' },
              { header: 'BLOCKS' },
              { header: 'ADDRESSES', align: 'right' },
              { header: 'CAPACITY', align: 'right' },
              { header: 'ALLOCATED', align: 'right' },
              { header: 'FREE', align: 'right' },
            ],
            report.namespaces.map((n) => [
              n.namespace,
              list(n.blocks),
              num(n.addresses),
              num(n.capacity),
              num(n.allocated),
              num(n.free),
            ]),
          ),
    );
  }
  return parts.join('\n');
}

/** Where an address sits in a block. */
export interface BlockPlace {
  readonly block: string;
  /** `spec.cidr` as stored. */
  readonly cidr: string;
  readonly pool: string | undefined;
  readonly ordinal: number;
}

/** What an address is used for, as read from the blocks. */
export type AddressLocation =
  | { readonly state: 'unmanaged'; readonly address: string; readonly pool: string | undefined }
  | { readonly state: 'free'; readonly address: string; readonly place: BlockPlace }
  | { readonly state: 'cooling'; readonly address: string; readonly place: BlockPlace; readonly coolingUntil: Date }
  | { readonly state: 'reserved'; readonly address: string; readonly place: BlockPlace }
  | { readonly state: 'damaged'; readonly address: string; readonly place: BlockPlace }
  | {
      readonly state: 'allocated';
      readonly address: string;
      readonly place: BlockPlace;
      readonly handleId: string | undefined;
      readonly attribute: AllocationAttribute | undefined;
    };

const PREFERENCE: Readonly<Record<AddressLocation['state'], number>> = {
  allocated: 0,
  damaged: 1,
  reserved: 2,
  cooling: 3,
  free: 4,
  unmanaged: 5,
};

/**
 * Finds an address in the blocks. Overlapping blocks (which `ipam check` reports) could hold it twice; the one
 * where it is in use wins, so that a lookup never calls a used address free.
 * @param text - the address, dotted decimal
 * @param blocks - all blocks
 * @param pools - all pools (to name the pool of an address no block covers)
 * @param cooldown - current time and release cooldown
 * @throws `InvalidAddressError` for text that is not an IPv4 address
 */
export function locateAddress(
  text: string,
  blocks: readonly IPAMBlock[],
  pools: readonly IPPool[],
  cooldown: { now: Date; cooldownMs: number },
): AddressLocation {
  const value = parseIPv4(text, '--ip');
  const address = formatIPv4(value);
  let best: AddressLocation | undefined;
  for (const block of sortBlocks(blocks.filter((b) => !b.spec.deleted && blockContains(b.spec, address)))) {
    let found: AddressLocation;
    try {
      const place: BlockPlace = {
        block: block.metadata.name,
        cidr: block.spec.cidr,
        pool: block.metadata.labels?.[LABEL_POOL_NAME],
        ordinal: ordinalOfAddress(block.spec, address),
      };
      const use = addressUse(block.spec, address, cooldown);
      if (use.state === 'allocated') found = { state: 'allocated', address, place, handleId: use.handleId, attribute: use.attribute };
      else if (use.state === 'free') {
        found = use.coolingUntil === undefined ? { state: 'free', address, place } : { state: 'cooling', address, place, coolingUntil: use.coolingUntil };
      } else if (use.state === 'reserved') found = { state: 'reserved', address, place };
      else found = { state: 'damaged', address, place };
    } catch {
      // A block too broken to read (bad CIDR, wrong allocations length) is what `ipam check` is for.
      continue;
    }
    if (best === undefined || PREFERENCE[found.state] < PREFERENCE[best.state]) best = found;
  }
  if (best !== undefined) return best;
  const pool = pools.find((p) => {
    try {
      return cidrContains(parseCidr(p.spec.cidr), value);
    } catch {
      return false;
    }
  });
  return { state: 'unmanaged', address, pool: pool?.metadata.name };
}

/** The pod named by an allocation's attributes. */
export interface PodName {
  readonly namespace: string;
  readonly name: string;
}

/**
 * The pod an allocation's attributes name, when they name one.
 * @param attribute - the allocation's attribute row
 */
export function podOf(attribute: AllocationAttribute | undefined): PodName | undefined {
  const namespace = attribute?.secondary?.[AttributeKey.Namespace];
  const name = attribute?.secondary?.[AttributeKey.Pod];
  return namespace === undefined || name === undefined || namespace === '' || name === '' ? undefined : { namespace, name };
}

/**
 * When an allocation was made, from its `timestamp` attribute.
 * @param attribute - the allocation's attribute row
 */
export function allocatedSince(attribute: AllocationAttribute | undefined): Date | undefined {
  const stamp = attribute?.secondary?.[AttributeKey.Timestamp];
  return stamp === undefined ? undefined : parseTimestamp(stamp);
}

/** `ipam show --ip`: one address, machine-readable (absent facts are null, so every key is always there). */
export interface AddressReport {
  readonly address: string;
  readonly state: AddressLocation['state'];
  readonly pool: string | null;
  readonly block: string | null;
  readonly cidr: string | null;
  readonly ordinal: number | null;
  readonly handleId: string | null;
  /** Whether the IPAMHandle object exists (null when no handle is involved). */
  readonly handleExists: boolean | null;
  readonly namespace: string | null;
  readonly pod: string | null;
  readonly node: string | null;
  /** When it was allocated (ISO 8601). */
  readonly since: string | null;
  /** When its release cooldown ends (ISO 8601). */
  readonly coolingUntil: string | null;
  /** What the state means, in words. */
  readonly note: string;
}

/**
 * The report of an address lookup.
 * @param location - from {@link locateAddress}
 * @param handle - the IPAMHandle of the holder, when it exists
 */
export function addressReport(location: AddressLocation, handle: IPAMHandle | undefined): AddressReport {
  const base = {
    address: location.address,
    state: location.state,
    pool: null,
    block: null,
    cidr: null,
    ordinal: null,
    handleId: null,
    handleExists: null,
    namespace: null,
    pod: null,
    node: null,
    since: null,
    coolingUntil: null,
  };
  if (location.state === 'unmanaged') {
    const note =
      location.pool === undefined
        ? 'not in any IP pool: hostnic does not manage this address'
        : `in pool ${location.pool}, but no IPAM block covers it (the controller creates missing blocks)`;
    return { ...base, pool: location.pool ?? null, note };
  }
  const place = {
    pool: location.place.pool ?? null,
    block: location.place.block,
    cidr: location.place.cidr,
    ordinal: location.place.ordinal,
  };
  switch (location.state) {
    case 'free':
      return { ...base, ...place, note: 'free: the next allocations may hand it out' };
    case 'cooling':
      return {
        ...base,
        ...place,
        coolingUntil: location.coolingUntil.toISOString(),
        note: `free, cooling down after its release: not handed out before ${location.coolingUntil.toISOString()}`,
      };
    case 'reserved':
      return {
        ...base,
        ...place,
        note: "reserved: outside the pool's pod range (network, gateway, broadcast or kept for the IaaS), never allocated",
      };
    case 'damaged':
      return { ...base, ...place, note: 'neither free nor allocated: the block is damaged; run `ipam check`' };
    case 'allocated': {
      const pod = podOf(location.attribute);
      const since = allocatedSince(location.attribute);
      const node = location.attribute?.secondary?.[AttributeKey.Node];
      const handleId = location.handleId ?? null;
      const claimNode = claimNodeOf(handleId ?? undefined);
      const note =
        handleId === null
          ? 'allocated to no handle: the block is damaged; run `ipam check`'
          : handle === undefined
            ? `allocated to handle ${handleId}, which has no IPAMHandle object (\`ipam check\` reports it)`
            : claimNode !== undefined
              ? pod === undefined
                ? `held by the address claim of node ${claimNode}, ready for its next pod (as the node last published)`
                : `held by the address claim of node ${claimNode}, used by pod ${pod.namespace}/${pod.name} (as the node last published)`
              : `allocated to handle ${handleId}`;
      return {
        ...base,
        ...place,
        handleId,
        handleExists: handleId === null ? null : handle !== undefined,
        namespace: pod?.namespace ?? null,
        pod: pod?.name ?? null,
        node: node === undefined || node === '' ? null : node,
        since: since?.toISOString() ?? null,
        note,
      };
    }
  }
}

/**
 * The text of an address lookup.
 * @param report - from {@link addressReport}
 */
export function renderAddressReport(report: AddressReport): string {
  const orNone = (v: string | null): string | undefined => v ?? undefined;
  return formatFields([
    ['Address', report.address],
    ['State', report.state],
    ['Pool', orNone(report.pool)],
    ['Block', report.block === null ? undefined : `${report.block} (${report.cidr ?? '?'}, ordinal ${report.ordinal ?? '?'})`],
    [
      'Handle',
      report.handleId === null
        ? undefined
        : `${report.handleId}${report.handleExists === false ? ' (no IPAMHandle object)' : ''}`,
    ],
    ['Pod', report.namespace === null || report.pod === null ? undefined : `${report.namespace}/${report.pod}`],
    ['Node', orNone(report.node)],
    ['Since', orNone(report.since)],
    ['Cooling until', orNone(report.coolingUntil)],
    ['Note', report.note],
  ]);
}
