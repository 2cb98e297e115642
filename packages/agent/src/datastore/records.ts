/**
 * Shape checks of everything the datastore persists. The same checks guard writes (a bad record is refused
 * with {@link InvalidRecordError}) and reads (a bad value is skipped and reported), so whatever is read back
 * was either written by this code or is indistinguishable from it.
 *
 * Unknown extra fields are kept: a newer agent may add optional fields without a schema bump (types.ts).
 *
 * @packageDocumentation
 */
import type { Intent, IntentKind, NicPhase, NicRecord, PodRecord, VxnetInfo } from '../types.ts';

/** A route table number held in the `tables` database: reserved by an allocation, bound once a NIC uses it. */
export interface RouteTableEntry {
  table: number;
  /** The NIC record using it; absent between allocateRouteTable and the putNic that uses it. */
  nicId?: string;
  /** RFC 3339, when it was allocated. */
  reservedAt: string;
}

const PHASES: ReadonlySet<NicPhase> = new Set<NicPhase>(['Init', 'CreateAndAttach', 'JoinBridge', 'SetRouteTable', 'Succeeded']);
const INTENT_KINDS: ReadonlySet<IntentKind> = new Set<IntentKind>([
  'create-nic',
  'attach-nic',
  'setup-nic',
  'release-nic',
  'allocate-ip',
  'wire-pod',
  'unwire-pod',
  'release-ip',
]);
/** 253-255 are the kernel's default/main/local tables; 0 is "unspecified". */
const RESERVED_TABLES: ReadonlySet<number> = new Set([0, 253, 254, 255]);
export const MAX_ROUTE_TABLE = 0xffff_ffff;

/** Thrown by the checks below and turned into a result or an {@link InvalidRecordError} by the callers. */
class ShapeError extends Error {}

type Fields = Record<string, unknown>;

function object(value: unknown, what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ShapeError(`${what} is not an object`);
  return value as Fields;
}

function text(o: Fields, field: string, opts: { nonEmpty?: boolean; noSlash?: boolean } = {}): string {
  const v = o[field];
  if (typeof v !== 'string') throw new ShapeError(`${field} is not a string`);
  if (opts.nonEmpty === true && v === '') throw new ShapeError(`${field} is empty`);
  // A slash would make `${containerId}/${ifName}` ambiguous.
  if (opts.noSlash === true && v.includes('/')) throw new ShapeError(`${field} contains '/'`);
  return v;
}

function optionalText(o: Fields, field: string): void {
  if (o[field] !== undefined && typeof o[field] !== 'string') throw new ShapeError(`${field} is not a string`);
}

function timestamp(o: Fields, field: string, optional = false): void {
  const v = o[field];
  if (optional && v === undefined) return;
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw new ShapeError(`${field} is not an RFC 3339 time`);
}

/** Checks a route table number: a positive 32-bit integer outside the kernel's own tables. */
export function checkRouteTable(value: unknown, field = 'routeTable'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_ROUTE_TABLE) {
    throw new ShapeError(`${field} is not an integer in 1..${MAX_ROUTE_TABLE}`);
  }
  if (RESERVED_TABLES.has(value)) throw new ShapeError(`${field} ${value} is one of the kernel's own tables`);
  return value;
}

function vxnet(value: unknown): VxnetInfo {
  const o = object(value, 'vxnet');
  text(o, 'vxnetId', { nonEmpty: true });
  text(o, 'gateway');
  text(o, 'network');
  if (o['tunnelType'] !== 'vxlan' && o['tunnelType'] !== 'vlan') throw new ShapeError('vxnet.tunnelType is not vxlan or vlan');
  return o as unknown as VxnetInfo;
}

function nic(value: unknown): NicRecord {
  const o = object(value, 'NIC record');
  const id = text(o, 'nicId', { nonEmpty: true, noSlash: true });
  // Comparing MACs case-sensitively was a defect of the original: store one spelling.
  if (id !== id.toLowerCase()) throw new ShapeError('nicId is not lower-case');
  vxnet(o['vxnet']);
  checkRouteTable(o['routeTable']);
  text(o, 'linkName', { nonEmpty: true });
  text(o, 'bridge', { nonEmpty: true });
  if (!PHASES.has(o['phase'] as NicPhase)) throw new ShapeError(`phase ${JSON.stringify(o['phase'])} is not a NIC phase`);
  timestamp(o, 'createdAt');
  timestamp(o, 'idleSince', true);
  optionalText(o, 'lastError');
  if (o['dhcpLease'] !== undefined) bridgeLease(o['dhcpLease']);
  return o as unknown as NicRecord;
}

function bridgeLease(value: unknown): void {
  const o = object(value, 'dhcpLease');
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text(o, 'address', { nonEmpty: true }))) throw new ShapeError('dhcpLease.address is not an IPv4 address');
  for (const [field, max] of [['prefixLength', 32], ['leaseSec', 2 ** 32 - 1]] as const) {
    const n = o[field];
    if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > max) throw new ShapeError(`dhcpLease.${field} must be an integer from 1 to ${max}`);
  }
  if (Number.isNaN(Date.parse(String(o['obtainedAt'])))) throw new ShapeError('dhcpLease.obtainedAt is not an RFC 3339 time');
}

function pod(value: unknown): PodRecord {
  const o = object(value, 'pod record');
  text(o, 'containerId', { nonEmpty: true, noSlash: true });
  text(o, 'ifName', { nonEmpty: true, noSlash: true });
  for (const field of ['handleId', 'vxnetId', 'nicId']) text(o, field, { nonEmpty: true });
  for (const field of ['podNamespace', 'podName', 'infraContainerId', 'netns', 'ip', 'hostVeth', 'hostVethMac', 'podMac']) {
    text(o, field);
  }
  timestamp(o, 'createdAt');
  return o as unknown as PodRecord;
}

function intentData(value: unknown): Intent['data'] {
  const o = object(value, 'intent data');
  for (const [k, v] of Object.entries(o)) {
    const ok = v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    if (!ok) throw new ShapeError(`data.${k} is not a string, finite number, boolean or null`);
  }
  return o as Intent['data'];
}

function intent(value: unknown): Intent {
  const o = object(value, 'intent');
  text(o, 'id', { nonEmpty: true });
  if (!INTENT_KINDS.has(o['kind'] as IntentKind)) throw new ShapeError(`kind ${JSON.stringify(o['kind'])} is not an intent kind`);
  intentData(o['data']);
  timestamp(o, 'startedAt');
  return o as unknown as Intent;
}

function tableEntry(value: unknown): RouteTableEntry {
  const o = object(value, 'route table entry');
  checkRouteTable(o['table'], 'table');
  if (o['nicId'] !== undefined) text(o, 'nicId', { nonEmpty: true });
  timestamp(o, 'reservedAt');
  return o as unknown as RouteTableEntry;
}

/** The outcome of a check: the value typed, or why it is not one. */
export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

function checker<T>(check: (value: unknown) => T): (value: unknown) => Checked<T> {
  return (value) => {
    try {
      return { ok: true, value: check(value) };
    } catch (error) {
      if (error instanceof ShapeError) return { ok: false, reason: error.message };
      throw error;
    }
  };
}

export const checkNic = checker(nic);
export const checkPod = checker(pod);
export const checkIntent = checker(intent);
export const checkIntentData = checker(intentData);
export const checkTableEntry = checker(tableEntry);
export const checkTableNumber = checker((value: unknown) => checkRouteTable(value, 'table'));

/** The key of a pod record. */
export function podKey(containerId: string, ifName: string): string {
  return `${containerId}/${ifName}`;
}
