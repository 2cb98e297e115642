/**
 * The records the Go agent (hostnic-cni) kept in LevelDB under /var/lib/hostnic: one per vxnet, keyed by the
 * vxnet id, valued with Go's JSON of `{"Nic": HostNic, "Pods": {containerId: PodInfo}}`. Go omits zero
 * values and writes enums as numbers, so every field but the ids is optional here. See
 * docs/compatibility.md.
 *
 * @packageDocumentation
 */

/** One pod attachment the Go agent recorded on a NIC. */
export interface GoPodRecord {
  containerId: string;
  name: string;
  namespace: string;
  podIp: string;
  ifName: string;
  netns: string;
}

/** One NIC record of the Go agent with its pods. */
export interface GoNicRecord {
  vxnetId: string;
  /** On QingCloud the NIC id is its MAC, lower-case. */
  nicId: string;
  routeTable: number | undefined;
  /** The Go phase enum; 4 is Succeeded (host setup done). */
  phase: number;
  network: string | undefined;
  gateway: string | undefined;
  tunnelType: 'vxlan' | 'vlan' | undefined;
  pods: GoPodRecord[];
}

/** A value that is not a Go agent record; names the key and the field. */
export class GoRecordError extends Error {
  override name = 'GoRecordError';
  readonly key: string;
  constructor(key: string, reason: string) {
    super(`Go agent record ${JSON.stringify(key)}: ${reason}`);
    this.key = key;
  }
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Decodes one LevelDB key/value pair of the Go agent. */
export function decodeGoRecord(key: string, value: string): GoNicRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new GoRecordError(key, `value is not JSON (${(err as Error).message})`);
  }
  if (!isObject(parsed) || !isObject(parsed.Nic)) throw new GoRecordError(key, 'value has no "Nic" object');
  const nic = parsed.Nic;
  const vxnet = isObject(nic.VxNet) ? nic.VxNet : {};
  const vxnetId = optionalString(key, vxnet, 'Nic.VxNet.ID') ?? key;
  if (vxnetId !== key) throw new GoRecordError(key, `Nic.VxNet.ID is ${JSON.stringify(vxnetId)}, not the key`);
  const nicId = optionalString(key, nic, 'Nic.ID') ?? optionalString(key, nic, 'Nic.HardwareAddr');
  if (!nicId) throw new GoRecordError(key, 'Nic.ID (the NIC\'s MAC) is missing');
  const routeTable = nic.RouteTableNum;
  if (routeTable !== undefined && !(Number.isInteger(routeTable) && (routeTable as number) > 0)) {
    throw new GoRecordError(key, `Nic.RouteTableNum must be a positive integer, got ${JSON.stringify(routeTable)}`);
  }
  const tunnel = optionalString(key, vxnet, 'Nic.VxNet.TunnelType');
  if (tunnel !== undefined && tunnel !== 'vxlan' && tunnel !== 'vlan') {
    throw new GoRecordError(key, `Nic.VxNet.TunnelType must be vxlan or vlan, got ${JSON.stringify(tunnel)}`);
  }
  const phase = nic.Phase ?? 0;
  if (!Number.isInteger(phase)) throw new GoRecordError(key, `Nic.Phase must be an integer, got ${JSON.stringify(phase)}`);
  const podsJson = parsed.Pods ?? {};
  if (!isObject(podsJson)) throw new GoRecordError(key, '"Pods" must be an object keyed by container id');
  const pods = Object.entries(podsJson).map(([containerId, pod]) => decodePod(key, containerId, pod));
  return {
    vxnetId,
    nicId: nicId.toLowerCase(),
    routeTable: routeTable as number | undefined,
    phase: phase as number,
    network: optionalString(key, vxnet, 'Nic.VxNet.Network'),
    gateway: optionalString(key, vxnet, 'Nic.VxNet.Gateway'),
    tunnelType: tunnel,
    pods,
  };
}

function decodePod(key: string, containerId: string, pod: unknown): GoPodRecord {
  const at = `Pods[${JSON.stringify(containerId)}]`;
  if (!isObject(pod)) throw new GoRecordError(key, `${at} is not an object`);
  const field = (name: string): string => optionalString(key, pod, `${at}.${name}`, name) ?? '';
  const podIp = field('PodIP');
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(podIp)) throw new GoRecordError(key, `${at}.PodIP must be an IPv4 address, got ${JSON.stringify(podIp)}`);
  // Go's field is misspelt "Containter"; the map key is the same id and wins when they differ.
  return { containerId, name: field('Name'), namespace: field('Namespace'), podIp, ifName: field('IfName') || 'eth0', netns: field('Netns') };
}

function optionalString(key: string, obj: Json, path: string, name = path.split('.').at(-1)!): string | undefined {
  const v = obj[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new GoRecordError(key, `${path} must be a string, got ${JSON.stringify(v)}`);
  return v;
}
