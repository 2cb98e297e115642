/**
 * Turns seed input (typed calls, control API bodies, state files) into complete state records: validates
 * every field, fills defaults and generates ids. A complete record is itself valid input, which is how
 * `replaceState(getState())` round-trips.
 */
import { FakeInputError } from './errors.ts';
import { cidrContains, formatCidr, formatIpv4, hostRange, parseCidr, parseIpv4 } from './ipv4.ts';
import type { IdGenerator } from './random.ts';
import type { FakeStore } from './store.ts';
import { TIMESTAMP_PATTERN } from '../sign.ts';
import type {
  AccessKeyRecord,
  ClusterNodeRecord,
  ClusterRecord,
  InstanceRecord,
  JobPlan,
  JobRecord,
  NicRecord,
  ResourceTagPair,
  RouterRecord,
  SecurityGroupRecord,
  SecurityGroupRuleRecord,
  TagRecord,
  VipRecord,
  VxnetRecord,
} from './types.ts';
import { Reader, stringItem } from './validate.ts';

export interface RecordContext {
  store: FakeStore;
  ids: IdGenerator;
  nowIso: string;
  /** Owner of seeded resources that do not name one. */
  owner: string;
  /** Zone of seeded resources that do not name one. */
  zone: string;
}

export const ID_PATTERNS = {
  instance: /^i-[a-z0-9]+$/,
  vxnet: /^vxnet-[a-z0-9]+$/,
  nic: /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/,
  job: /^j-[a-z0-9]+$/,
  vip: /^vip-[a-z0-9]+$/,
  securityGroup: /^sg-[a-z0-9]+$/,
  securityGroupRule: /^sgr-[a-z0-9]+$/,
  tag: /^tag-[a-z0-9]+$/,
  cluster: /^cl-[a-z0-9]+$/,
  clusterNode: /^cln-[a-z0-9]+$/,
  router: /^rtr-[a-z0-9]+$/,
} as const;

export const SG_PROTOCOLS = ['tcp', 'udp', 'icmp', 'gre', 'esp', 'ah', 'ipip', 'all'] as const;

const IPV4_HINT = 'an IPv4 address such as 192.168.0.2';

function ip(reader: Reader, key: string): string | undefined {
  const value = reader.optString(key);
  if (value !== undefined && parseIpv4(value) === undefined) throw new FakeInputError(reader.field(key), `must be ${IPV4_HINT}`);
  return value;
}

function requiredIp(reader: Reader, key: string): string {
  const value = ip(reader, key);
  if (value === undefined) throw new FakeInputError(reader.field(key), 'is required');
  return value;
}

function time(reader: Reader, key: string, ctx: RecordContext): string {
  return reader.optString(key, { pattern: TIMESTAMP_PATTERN, hint: '2013-08-27T14:30:10Z' }) ?? ctx.nowIso;
}

function owner(reader: Reader, ctx: RecordContext): string {
  return reader.optString('owner', { pattern: /^\S+$/, hint: 'usr-xxxxxxxx' }) ?? ctx.owner;
}

function zone(reader: Reader, ctx: RecordContext): string {
  const value = reader.optString('zone') ?? ctx.zone;
  if (!ctx.store.zones.includes(value)) {
    throw new FakeInputError(reader.field('zone'), `unknown zone ${value} (known: ${ctx.store.zones.join(', ')})`);
  }
  return value;
}

/** A given id must be well formed and new; an absent one is generated. */
function newId(
  reader: Reader,
  key: string,
  pattern: RegExp,
  ctx: RecordContext,
  generate: () => string,
  taken: (id: string) => boolean = (id) => ctx.store.hasId(id),
): string {
  const given = reader.optString(key, { pattern, hint: pattern.source });
  if (given === undefined) return generate();
  if (taken(given)) throw new FakeInputError(reader.field(key), `${given} already exists`);
  return given;
}

const taken = (ctx: RecordContext) => (id: string) => ctx.store.hasId(id);

export function accessKeyFromInput(input: unknown, path: string, ctx: RecordContext): AccessKeyRecord {
  const r = new Reader(input, path);
  const record: AccessKeyRecord = {
    access_key_id: newId(r, 'accessKeyId', /^\S+$/, ctx, () => ctx.ids.id('', 20, taken(ctx)).toUpperCase(),
      (id) => ctx.store.tables.accessKeys.has(id)),
    secret_access_key: r.optString('secretAccessKey') ?? ctx.ids.alnum(40),
    access_key_name: r.optString('name') ?? '',
    owner: owner(r, ctx),
    status: r.optString('status') ?? 'active',
    create_time: ctx.nowIso,
  };
  r.done();
  return record;
}

export function accessKeyFromRecord(input: unknown, path: string, ctx: RecordContext): AccessKeyRecord {
  const r = new Reader(input, path);
  const record: AccessKeyRecord = {
    access_key_id: newId(r, 'access_key_id', /^\S+$/, ctx, () => ctx.ids.id('', 20).toUpperCase(),
      (id) => ctx.store.tables.accessKeys.has(id)),
    secret_access_key: r.string('secret_access_key'),
    access_key_name: r.optString('access_key_name') ?? '',
    owner: owner(r, ctx),
    status: r.optString('status') ?? 'active',
    create_time: time(r, 'create_time', ctx),
  };
  r.done();
  return record;
}

/** The first /24 of 172.16.0.0/12, then of 10.0.0.0/8, that no vxnet uses yet. */
function freeNetwork(store: FakeStore): string {
  const used = new Set([...store.tables.vxnets.values()].map((v) => v.router?.ip_network));
  for (let k = 0; k < 16 * 256; k++) {
    const candidate = `172.${16 + (k >> 8)}.${k & 255}.0/24`;
    if (!used.has(candidate)) return candidate;
  }
  for (let k = 0; k < 65536; k++) {
    const candidate = `10.${k >> 8}.${k & 255}.0/24`;
    if (!used.has(candidate)) return candidate;
  }
  throw new FakeInputError('router.ip_network', 'no free default network left; give one');
}

function routerFromInput(input: unknown, path: string, ctx: RecordContext): RouterRecord {
  const r = new Reader(input, path);
  const networkText = r.optString('ip_network') ?? freeNetwork(ctx.store);
  const cidr = parseCidr(networkText);
  if (cidr === undefined || cidr.prefix > 30) {
    throw new FakeInputError(r.field('ip_network'), 'must be a CIDR such as 192.168.0.0/24 (prefix at most /30)');
  }
  const hosts = hostRange(cidr);
  const inside = (key: string, value: string): string => {
    const addr = parseIpv4(value);
    if (addr === undefined || !cidrContains(cidr, addr)) {
      throw new FakeInputError(r.field(key), `must be an address inside ${formatCidr(cidr)}`);
    }
    return value;
  };
  const optionalInside = (key: string, fallback: string): string => {
    const value = r.optString(key);
    if (value === '') return '';
    return inside(key, value ?? fallback);
  };
  const record: RouterRecord = {
    router_id: r.optString('router_id', { pattern: ID_PATTERNS.router, hint: 'rtr-xxxxxxxx' }) ?? ctx.ids.id('rtr-', 8),
    router_name: r.optString('router_name') ?? '',
    manager_ip: inside('manager_ip', r.optString('manager_ip') ?? formatIpv4(hosts.first)),
    ip_network: formatCidr(cidr),
    dyn_ip_start: optionalInside('dyn_ip_start', formatIpv4(Math.min(hosts.first + 1, hosts.last))),
    dyn_ip_end: optionalInside('dyn_ip_end', formatIpv4(hosts.last)),
    mode: r.optInt('mode', { min: 0 }) ?? 0,
  };
  r.done();
  const start = parseIpv4(record.dyn_ip_start);
  const end = parseIpv4(record.dyn_ip_end);
  if (start !== undefined && end !== undefined && start > end) {
    throw new FakeInputError(r.field('dyn_ip_end'), 'must not be below dyn_ip_start');
  }
  return record;
}

export function vxnetFromInput(input: unknown, path: string, ctx: RecordContext): VxnetRecord {
  const r = new Reader(input, path);
  const vxnetId = newId(r, 'vxnet_id', ID_PATTERNS.vxnet, ctx, () => ctx.ids.id('vxnet-', 7, taken(ctx)));
  const routerInput = r.raw('router');
  const record: VxnetRecord = {
    vxnet_id: vxnetId,
    vxnet_name: r.optString('vxnet_name') ?? vxnetId,
    vxnet_type: (r.optInt('vxnet_type', { min: 0, max: 2 }) ?? 1) as 0 | 1 | 2,
    tunnel_type: (r.optString('tunnel_type', { oneOf: ['vxlan', 'vlan'] }) ?? 'vxlan') as 'vxlan' | 'vlan',
    router: routerInput === null ? null : routerFromInput(routerInput ?? {}, r.field('router'), ctx),
    reserved_ips: (r.optArray('reserved_ips', stringItem) ?? []).map((value, i) => {
      if (parseIpv4(value) === undefined) throw new FakeInputError(`${r.field('reserved_ips')}.${i}`, `must be ${IPV4_HINT}`);
      return value;
    }),
    owner: owner(r, ctx),
    zone: zone(r, ctx),
    create_time: time(r, 'create_time', ctx),
  };
  r.done();
  return record;
}

/** Lowest (or highest) address of the DHCP range that nothing owns yet. */
export function freeDhcpAddress(
  store: FakeStore,
  vxnet: VxnetRecord,
  from: 'lowest' | 'highest',
  extraUsed: ReadonlySet<number> = new Set(),
): string | undefined {
  const start = vxnet.router ? parseIpv4(vxnet.router.dyn_ip_start) : undefined;
  const end = vxnet.router ? parseIpv4(vxnet.router.dyn_ip_end) : undefined;
  if (start === undefined || end === undefined) return undefined;
  const used = store.usedAddresses(vxnet.vxnet_id);
  const free = (addr: number): boolean => !used.has(addr) && !extraUsed.has(addr);
  if (from === 'lowest') {
    for (let addr = start; addr <= end; addr++) if (free(addr)) return formatIpv4(addr);
  } else {
    for (let addr = end; addr >= start; addr--) if (free(addr)) return formatIpv4(addr);
  }
  return undefined;
}

export interface SeededInstance {
  instance: InstanceRecord;
  /** Created for `addInstance`; a restored snapshot carries its own NICs. */
  primaryNic: NicRecord | undefined;
}

export function instanceFromInput(input: unknown, path: string, ctx: RecordContext, mode: 'create' | 'restore'): SeededInstance {
  const r = new Reader(input, path);
  const instanceId = newId(r, 'instance_id', ID_PATTERNS.instance, ctx, () => ctx.ids.id('i-', 8, taken(ctx)));
  const vxnetId = r.optString('vxnet_id', { pattern: /^vxnet-[a-z0-9]+$/, hint: 'vxnet-xxxxxxx' }) ?? 'vxnet-0';
  const vxnet = ctx.store.tables.vxnets.get(vxnetId);
  if (mode === 'create' && vxnetId !== 'vxnet-0' && vxnet === undefined) {
    throw new FakeInputError(r.field('vxnet_id'), `vxnet ${vxnetId} does not exist; seed it first`);
  }
  let privateIp = r.optStringOrNull('private_ip');
  if (privateIp !== undefined && privateIp !== null && parseIpv4(privateIp) === undefined) {
    throw new FakeInputError(r.field('private_ip'), `must be ${IPV4_HINT} or null`);
  }
  // Seeded instances take addresses from the top of the DHCP range (where hostnic keeps its reserve), so
  // that ranges tests carve from the bottom, such as VIP ranges starting at dyn_ip_start, stay whole.
  if (privateIp === undefined) privateIp = mode === 'create' && vxnet ? freeDhcpAddress(ctx.store, vxnet, 'highest') ?? null : null;
  const primaryNicId = mode === 'create'
    ? newId(r, 'primary_nic_id', ID_PATTERNS.nic, ctx, () => ctx.ids.mac(taken(ctx)))
    : undefined;
  const createTime = time(r, 'create_time', ctx);
  const instance: InstanceRecord = {
    instance_id: instanceId,
    instance_name: r.optString('instance_name') ?? '',
    status: r.optString('status') ?? 'running',
    vxnet_id: vxnetId,
    private_ip: privateIp,
    max_nics: r.optIntOrNull('max_nics', { min: 1 }) ?? null,
    host_machine: r.optString('host_machine') ?? `hm-${instanceId.slice(2)}`,
    owner: owner(r, ctx),
    zone: zone(r, ctx),
    create_time: createTime,
  };
  r.done();
  const primaryNic: NicRecord | undefined = primaryNicId === undefined ? undefined : {
    nic_id: primaryNicId,
    nic_name: '',
    vxnet_id: vxnetId,
    private_ip: privateIp,
    status: 'in-use',
    instance_id: instanceId,
    role: 1,
    sequence: 0,
    security_group: '',
    owner: instance.owner,
    zone: instance.zone,
    create_time: createTime,
    status_time: createTime,
    lock: null,
  };
  return { instance, primaryNic };
}

export function nicFromInput(input: unknown, path: string, ctx: RecordContext, mode: 'create' | 'restore'): NicRecord {
  const r = new Reader(input, path);
  const nicId = newId(r, 'nic_id', ID_PATTERNS.nic, ctx, () => ctx.ids.mac(taken(ctx)));
  const vxnetId = r.string('vxnet_id', { pattern: /^vxnet-[a-z0-9]+$/, hint: 'vxnet-xxxxxxx' });
  if (mode === 'create' && vxnetId !== 'vxnet-0' && !ctx.store.tables.vxnets.has(vxnetId)) {
    throw new FakeInputError(r.field('vxnet_id'), `vxnet ${vxnetId} does not exist; seed it first`);
  }
  const privateIp = r.optStringOrNull('private_ip') ?? null;
  if (privateIp !== null && parseIpv4(privateIp) === undefined) {
    throw new FakeInputError(r.field('private_ip'), `must be ${IPV4_HINT} or null`);
  }
  const instanceId = r.optString('instance_id') ?? '';
  const status = (r.optString('status', { oneOf: ['available', 'in-use'] }) ?? (instanceId ? 'in-use' : 'available')) as
    | 'available'
    | 'in-use';
  if ((status === 'in-use') !== (instanceId !== '')) {
    throw new FakeInputError(r.field('instance_id'), 'must be set exactly when status is in-use');
  }
  if (mode === 'create' && instanceId && !ctx.store.tables.instances.has(instanceId)) {
    throw new FakeInputError(r.field('instance_id'), `instance ${instanceId} does not exist; seed it first`);
  }
  const createTime = time(r, 'create_time', ctx);
  const record: NicRecord = {
    nic_id: nicId,
    nic_name: r.optString('nic_name') ?? '',
    vxnet_id: vxnetId,
    private_ip: privateIp,
    status,
    instance_id: instanceId,
    role: (r.optInt('role', { min: 0, max: 1 }) ?? 0) as 0 | 1,
    sequence: r.optInt('sequence', { min: 0 }) ?? 0,
    security_group: r.optString('security_group') ?? '',
    owner: owner(r, ctx),
    zone: zone(r, ctx),
    create_time: createTime,
    status_time: time(r, 'status_time', ctx),
    lock: r.optStringOrNull('lock') ?? null,
  };
  r.done();
  return record;
}

function planFromInput(input: unknown, path: string): JobPlan {
  const r = new Reader(input, path);
  const plan: JobPlan = {
    outcome: r.string('outcome', { oneOf: ['successful', 'failed', 'stuck'] }) as JobPlan['outcome'],
    hidden: r.optBoolean('hidden') ?? false,
    working_at: r.optIntOrNull('working_at') ?? null,
    done_at: r.optIntOrNull('done_at') ?? null,
    lag_ms: r.optInt('lag_ms', { min: 0 }) ?? 0,
  };
  r.done();
  return plan;
}

export function jobFromRecord(input: unknown, path: string, ctx: RecordContext): JobRecord {
  const r = new Reader(input, path);
  const record: JobRecord = {
    job_id: newId(r, 'job_id', ID_PATTERNS.job, ctx, () => ctx.ids.id('j-', 8, taken(ctx))),
    job_action: r.string('job_action'),
    status: r.string('status', { oneOf: ['pending', 'working', 'successful', 'failed'] }) as JobRecord['status'],
    resource_ids: r.optString('resource_ids') ?? '',
    directive: r.optString('directive') ?? '{}',
    owner: owner(r, ctx),
    zone: zone(r, ctx),
    create_time: time(r, 'create_time', ctx),
    status_time: time(r, 'status_time', ctx),
    plan: r.has('plan')
      ? planFromInput(r.raw('plan'), r.field('plan'))
      : { outcome: 'successful', hidden: false, working_at: null, done_at: null, lag_ms: 0 },
    request_seq: r.optIntOrNull('request_seq') ?? null,
  };
  r.done();
  return record;
}

export function vipFromRecord(input: unknown, path: string, ctx: RecordContext): VipRecord {
  const r = new Reader(input, path);
  const record: VipRecord = {
    vip_id: newId(r, 'vip_id', ID_PATTERNS.vip, ctx, () => ctx.ids.id('vip-', 8, taken(ctx))),
    vip_name: r.optString('vip_name') ?? '',
    vip_addr: requiredIp(r, 'vip_addr'),
    vxnet_id: r.string('vxnet_id'),
    nic_id: r.optString('nic_id') ?? '',
    instance_id: r.optString('instance_id') ?? '',
    status: (r.optString('status', { oneOf: ['available', 'pending'] }) ?? 'available') as VipRecord['status'],
    lock: r.optStringOrNull('lock') ?? null,
    owner: owner(r, ctx),
    zone: zone(r, ctx),
    create_time: time(r, 'create_time', ctx),
  };
  r.done();
  return record;
}

export function securityGroupRuleFromInput(
  input: unknown,
  path: string,
  ctx: RecordContext,
  securityGroupId: string | undefined,
): SecurityGroupRuleRecord {
  const r = new Reader(input, path);
  const record: SecurityGroupRuleRecord = {
    security_group_rule_id: newId(r, 'security_group_rule_id', ID_PATTERNS.securityGroupRule, ctx, () =>
      ctx.ids.id('sgr-', 8, taken(ctx))),
    security_group_id: securityGroupId ?? r.string('security_group_id'),
    security_group_rule_name: r.optString('security_group_rule_name') ?? '',
    action: (r.optString('action', { oneOf: ['accept', 'drop'] }) ?? 'accept') as 'accept' | 'drop',
    direction: (r.optInt('direction', { min: 0, max: 1 }) ?? 0) as 0 | 1,
    priority: r.optInt('priority', { min: 0, max: 100 }) ?? 0,
    protocol: r.string('protocol', { oneOf: SG_PROTOCOLS }),
    val1: r.optString('val1') ?? '',
    val2: r.optString('val2') ?? '',
    val3: r.optString('val3') ?? '',
  };
  r.done();
  return record;
}

export interface SeededSecurityGroup {
  group: SecurityGroupRecord;
  rules: SecurityGroupRuleRecord[];
}

export function securityGroupFromInput(input: unknown, path: string, ctx: RecordContext): SeededSecurityGroup {
  const r = new Reader(input, path);
  const id = newId(r, 'security_group_id', ID_PATTERNS.securityGroup, ctx, () => ctx.ids.id('sg-', 8, taken(ctx)));
  const group: SecurityGroupRecord = {
    security_group_id: id,
    security_group_name: r.optString('security_group_name') ?? '',
    is_applied: (r.optInt('is_applied', { min: 0, max: 1 }) ?? 1) as 0 | 1,
    owner: owner(r, ctx),
    zone: zone(r, ctx),
    create_time: time(r, 'create_time', ctx),
  };
  const seen = new Set<string>();
  const rules = r.optArray('rules', (item, itemPath) => {
    const rule = securityGroupRuleFromInput(item, itemPath, ctx, id);
    if (seen.has(rule.security_group_rule_id)) throw new FakeInputError(itemPath, 'duplicate rule id');
    seen.add(rule.security_group_rule_id);
    return rule;
  }) ?? [];
  r.done();
  return { group, rules };
}

function clusterNodeFromInput(input: unknown, path: string, ctx: RecordContext, clusterId: string): ClusterNodeRecord {
  const r = new Reader(input, path);
  const record: ClusterNodeRecord = {
    node_id: newId(r, 'node_id', ID_PATTERNS.clusterNode, ctx, () => ctx.ids.id('cln-', 8, taken(ctx))),
    name: r.optString('name') ?? '',
    cluster_id: clusterId,
    instance_id: r.optString('instance_id', { pattern: ID_PATTERNS.instance, hint: 'i-xxxxxxxx' }) ?? ctx.ids.id('i-', 8, taken(ctx)),
    host_machine: r.optString('host_machine') ?? '',
    private_ip: r.optString('private_ip') === '' ? '' : (ip(r, 'private_ip') ?? ''),
    status: r.optString('status') ?? 'active',
  };
  r.optString('cluster_id');
  r.done();
  return record;
}

export function clusterFromInput(input: unknown, path: string, ctx: RecordContext): ClusterRecord {
  const r = new Reader(input, path);
  const id = newId(r, 'cluster_id', ID_PATTERNS.cluster, ctx, () => ctx.ids.id('cl-', 8, taken(ctx)));
  const record: ClusterRecord = {
    cluster_id: id,
    name: r.optString('name') ?? '',
    security_group_id: r.optString('security_group_id') ?? '',
    vxnet_id: r.optString('vxnet_id') ?? '',
    status: r.optString('status') ?? 'active',
    nodes: r.optArray('nodes', (item, itemPath) => clusterNodeFromInput(item, itemPath, ctx, id)) ?? [],
    owner: owner(r, ctx),
    zone: zone(r, ctx),
    create_time: time(r, 'create_time', ctx),
  };
  r.done();
  const nodeIds = new Set<string>();
  record.nodes.forEach((node, i) => {
    if (nodeIds.has(node.node_id)) throw new FakeInputError(`${r.field('nodes')}.${i}.node_id`, 'duplicate node id');
    nodeIds.add(node.node_id);
  });
  return record;
}

function tagPairFromInput(input: unknown, path: string): ResourceTagPair {
  const r = new Reader(input, path);
  const pair = { resource_id: r.string('resource_id'), resource_type: r.string('resource_type') };
  r.done();
  return pair;
}

export function tagFromInput(input: unknown, path: string, ctx: RecordContext): TagRecord {
  const r = new Reader(input, path);
  const id = newId(r, 'tag_id', ID_PATTERNS.tag, ctx, () => ctx.ids.id('tag-', 8, taken(ctx)));
  const record: TagRecord = {
    tag_id: id,
    tag_name: r.optString('tag_name') ?? id,
    color: r.optString('color') ?? '#9f9bb7',
    resource_tag_pairs: r.optArray('resource_tag_pairs', tagPairFromInput) ?? [],
    owner: owner(r, ctx),
    zone: zone(r, ctx),
    create_time: time(r, 'create_time', ctx),
  };
  r.done();
  return record;
}
