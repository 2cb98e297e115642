import { paginate } from '../api-params.ts';
import { FakeApiError, badParam, denied, missingParam, quotaExceeded } from '../errors.ts';
import { cidrContains, parseCidr, parseIpv4 } from '../ipv4.ts';
import { parseDirective } from '../job-effects.ts';
import { freeDhcpAddress } from '../records.ts';
import type { NicRecord } from '../types.ts';
import type { ActionContext, ActionHandler, ActionResult } from './context.ts';
import { createJob, idFilter, lookup, visible } from './context.ts';

const MAX_CREATE = 252;

function nicView(ctx: ActionContext, nic: NicRecord): ActionResult {
  const tags = [...ctx.store.tables.tags.values()]
    .filter((tag) => tag.resource_tag_pairs.some((p) => p.resource_id === nic.nic_id))
    .map((tag) => ({ tag_id: tag.tag_id, tag_name: tag.tag_name, color: tag.color }));
  return {
    nic_id: nic.nic_id,
    nic_name: nic.nic_name,
    vxnet_id: nic.vxnet_id,
    private_ip: nic.private_ip,
    status: nic.status,
    instance_id: nic.instance_id,
    role: nic.role,
    sequence: nic.sequence,
    security_group: nic.security_group,
    tags,
    owner: nic.owner,
    create_time: nic.create_time,
    status_time: nic.status_time,
  };
}

function requireNics(ctx: ActionContext): string[] {
  const ids = ctx.params.list('nics');
  if (ids.length === 0) throw missingParam('nics.1');
  return ids;
}

function requireUnlocked(nic: NicRecord): void {
  if (nic.lock !== null) throw denied(`nic [${nic.nic_id}] is being operated by job [${nic.lock}], try later`);
}

export const describeNics: ActionHandler = (ctx) => {
  const p = ctx.params;
  const byId = idFilter(p.list('nics'));
  const byVxnet = idFilter(p.list('vxnets'));
  const byInstance = idFilter(p.list('instances'));
  const name = p.str('nic_name');
  const status = p.str('status');
  const types = p.listOrScalar('vxnet_type');
  const matches = visible(ctx, 'nics', ctx.store.tables.nics).filter((nic) => {
    if (!byId(nic.nic_id) || !byVxnet(nic.vxnet_id) || !byInstance(nic.instance_id)) return false;
    if (name !== undefined && nic.nic_name !== name) return false;
    if (status !== undefined && nic.status !== status) return false;
    if (types.length > 0) {
      const type = ctx.store.tables.vxnets.get(nic.vxnet_id)?.vxnet_type;
      if (type === undefined || !types.includes(String(type))) return false;
    }
    return true;
  });
  const page = paginate(matches, p, ctx.settings.maxLimit);
  return { nic_set: page.items.map((nic) => nicView(ctx, nic)), total_count: page.total_count };
};

/** Explicit `private_ips.N`: each inside the network, unique and free. */
function explicitAddresses(ctx: ActionContext, vxnetId: string, ips: readonly string[]): string[] {
  const vxnet = ctx.store.tables.vxnets.get(vxnetId);
  const cidr = vxnet?.router ? parseCidr(vxnet.router.ip_network) : undefined;
  if (cidr === undefined) throw denied(`vxnet [${vxnetId}] is not bound to a vpc router, can not assign private_ips`);
  const used = ctx.store.usedAddresses(vxnetId);
  const seen = new Set<number>();
  for (const ip of ips) {
    const addr = parseIpv4(ip);
    if (addr === undefined || !cidrContains(cidr, addr)) {
      throw badParam(`private_ip [${ip}] is not in the network [${vxnet?.router?.ip_network ?? ''}] of vxnet [${vxnetId}]`);
    }
    if (seen.has(addr)) throw badParam(`private_ip [${ip}] is given twice`);
    if (used.has(addr)) throw denied(`private_ip [${ip}] is already in use in vxnet [${vxnetId}]`);
    seen.add(addr);
  }
  return [...ips];
}

function dhcpAddresses(ctx: ActionContext, vxnetId: string, count: number): string[] {
  const vxnet = ctx.store.tables.vxnets.get(vxnetId);
  if (vxnet?.router == null) throw denied(`vxnet [${vxnetId}] is not bound to a vpc router, can not allocate private ip`);
  const taken = new Set<number>();
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const ip = freeDhcpAddress(ctx.store, vxnet, 'lowest', taken);
    if (ip === undefined) {
      const code = ctx.settings.noFreeIpRetCode;
      throw new FakeApiError(code, `no free private ip left in vxnet [${vxnetId}] for ${count} nics`);
    }
    taken.add(parseIpv4(ip) ?? 0);
    out.push(ip);
  }
  return out;
}

export const createNics: ActionHandler = (ctx) => {
  const p = ctx.params;
  const vxnet = lookup(ctx, ctx.store.tables.vxnets, p.required('vxnet'));
  const privateIps = p.list('private_ips');
  const countGiven = p.int('count', { min: 1, max: MAX_CREATE });
  if (privateIps.length > 0 && countGiven !== undefined && countGiven !== privateIps.length) {
    throw badParam(`count [${countGiven}] does not match the number of private_ips [${privateIps.length}]`);
  }
  const count = privateIps.length > 0 ? privateIps.length : (countGiven ?? 1);
  if (count > MAX_CREATE) throw badParam(`count should be in 1..${MAX_CREATE}, got [${count}]`);
  const disableIp = p.int('disable_ip', { min: 0, max: 1 }) === 1;

  const existing = [...ctx.store.tables.nics.values()].filter((n) => n.owner === ctx.owner && n.role === 0).length;
  if (existing + count > ctx.store.quotas.nics) {
    throw quotaExceeded(`nic quota [${ctx.store.quotas.nics}] exceeded: ${existing} exist, ${count} requested`);
  }
  const addresses: (string | null)[] = privateIps.length > 0
    ? explicitAddresses(ctx, vxnet.vxnet_id, privateIps)
    : disableIp
      ? Array.from({ length: count }, () => null)
      : dhcpAddresses(ctx, vxnet.vxnet_id, count);

  const created = addresses.map((ip): NicRecord => ({
    nic_id: ctx.ids.mac((id) => ctx.store.hasId(id)),
    nic_name: p.str('nic_name') ?? '',
    vxnet_id: vxnet.vxnet_id,
    private_ip: ip,
    status: 'available',
    instance_id: '',
    role: 0,
    sequence: 0,
    security_group: '',
    owner: ctx.owner,
    zone: vxnet.zone,
    create_time: ctx.nowIso,
    status_time: ctx.nowIso,
    lock: null,
  }));
  for (const nic of created) ctx.store.tables.nics.set(nic.nic_id, nic);
  return { nics: created.map((nic) => ({ nic_id: nic.nic_id, private_ip: nic.private_ip })) };
};

/** NICs that running AttachNics jobs are about to add to the instance. */
function beingAttached(ctx: ActionContext, instanceId: string): NicRecord[] {
  const out: NicRecord[] = [];
  for (const job of ctx.store.tables.jobs.values()) {
    if (job.job_action !== 'AttachNics' || (job.status !== 'pending' && job.status !== 'working')) continue;
    const directive = parseDirective(job);
    if (directive.instance !== instanceId) continue;
    for (const id of directive.nics) {
      const nic = ctx.store.tables.nics.get(id);
      if (nic?.lock === job.job_id) out.push(nic);
    }
  }
  return out;
}

export const attachNics: ActionHandler = (ctx) => {
  const p = ctx.params;
  const instance = lookup(ctx, ctx.store.tables.instances, p.required('instance'));
  if (instance.status !== 'running') {
    throw denied(`instance [${instance.instance_id}] is not running, can not attach nics`);
  }
  const nics = requireNics(ctx).map((id) => lookup(ctx, ctx.store.tables.nics, id));
  for (const nic of nics) {
    requireUnlocked(nic);
    if (nic.status !== 'available') throw denied(`nic [${nic.nic_id}] is already in use by instance [${nic.instance_id}]`);
  }
  const attached = [...ctx.store.tables.nics.values()].filter((n) => n.instance_id === instance.instance_id);
  const attaching = beingAttached(ctx, instance.instance_id);
  const limit = instance.max_nics ?? ctx.store.quotas.nics_per_instance;
  if (attached.length + attaching.length + nics.length > limit) {
    throw quotaExceeded(`instance [${instance.instance_id}] can have at most ${limit} nics`);
  }
  if (ctx.settings.oneNicPerVxnetPerInstance) {
    const vxnets = new Set(attached.map((n) => n.vxnet_id));
    for (const nic of attaching) vxnets.add(nic.vxnet_id);
    for (const nic of nics) {
      if (vxnets.has(nic.vxnet_id)) {
        throw denied(`instance [${instance.instance_id}] already has a nic in vxnet [${nic.vxnet_id}]`);
      }
      vxnets.add(nic.vxnet_id);
    }
  }
  const nicIds = nics.map((n) => n.nic_id);
  const job = createJob(ctx, {
    action: 'AttachNics',
    resourceIds: [...nicIds, instance.instance_id],
    directive: { nics: nicIds, instance: instance.instance_id },
  });
  for (const nic of nics) nic.lock = job.job_id;
  return { job_id: job.job_id };
};

export const detachNics: ActionHandler = (ctx) => {
  const nics = requireNics(ctx).map((id) => lookup(ctx, ctx.store.tables.nics, id));
  for (const nic of nics) {
    requireUnlocked(nic);
    if (nic.role === 1) throw denied(`nic [${nic.nic_id}] is the primary nic of instance [${nic.instance_id}], can not be detached`);
    if (nic.status !== 'in-use') throw denied(`nic [${nic.nic_id}] is not attached to any instance`);
  }
  const nicIds = nics.map((n) => n.nic_id);
  const instances = [...new Set(nics.map((n) => n.instance_id))];
  const job = createJob(ctx, {
    action: 'DetachNics',
    resourceIds: [...nicIds, ...instances],
    directive: instances.length === 1 ? { nics: nicIds, instance: instances[0] } : { nics: nicIds, instances },
  });
  for (const nic of nics) nic.lock = job.job_id;
  return { job_id: job.job_id };
};

export const deleteNics: ActionHandler = (ctx) => {
  const nics = requireNics(ctx).map((id) => lookup(ctx, ctx.store.tables.nics, id));
  for (const nic of nics) {
    requireUnlocked(nic);
    if (nic.status !== 'available') throw denied(`nic [${nic.nic_id}] is in use by instance [${nic.instance_id}], can not be deleted`);
  }
  for (const nic of nics) {
    ctx.store.tables.nics.delete(nic.nic_id);
    for (const tag of ctx.store.tables.tags.values()) {
      tag.resource_tag_pairs = tag.resource_tag_pairs.filter((pair) => pair.resource_id !== nic.nic_id);
    }
  }
  return {};
};
