import { paginate } from '../api-params.ts';
import { badParam, denied, missingParam, notFound, quotaExceeded } from '../errors.ts';
import type { Cidr } from '../ipv4.ts';
import { cidrContains, formatIpv4, hostRange, parseCidr, parseIpv4 } from '../ipv4.ts';
import type { VipRecord } from '../types.ts';
import type { ActionContext, ActionHandler, ActionResult } from './context.ts';
import { createJob, idFilter, lookup, visible } from './context.ts';

function vipView(vip: VipRecord): ActionResult {
  return {
    vip_id: vip.vip_id,
    vip_name: vip.vip_name,
    vip_addr: vip.vip_addr,
    vxnet_id: vip.vxnet_id,
    nic_id: vip.nic_id,
    instance_id: vip.instance_id,
    owner: vip.owner,
    create_time: vip.create_time,
  };
}

function inside(cidr: Cidr, text: string, what: string): number {
  const addr = parseIpv4(text);
  if (addr === undefined || !cidrContains(cidr, addr)) throw badParam(`${what} [${text}] is not in network [${formatIpv4(cidr.network)}/${cidr.prefix}]`);
  return addr;
}

/** Candidate addresses, in order: explicit `vip_addrs.N`, a `vip_range`, or the whole network. */
function candidates(ctx: ActionContext, cidr: Cidr, used: ReadonlySet<number>): { addrs: number[]; explicit: boolean; rangeSize: number } {
  const p = ctx.params;
  const explicit = p.list('vip_addrs');
  if (explicit.length > 0) {
    const addrs = explicit.map((text) => {
      const addr = inside(cidr, text, 'vip_addr');
      if (used.has(addr)) throw denied(`address [${text}] is already in use`);
      return addr;
    });
    return { addrs, explicit: true, rangeSize: addrs.length };
  }
  const range = p.str('vip_range');
  let first: number;
  let last: number;
  if (range !== undefined) {
    const parts = range.split('-');
    if (parts.length !== 2) throw badParam(`vip_range [${range}] should look like <start>-<end>`);
    first = inside(cidr, parts[0] ?? '', 'vip_range start');
    last = inside(cidr, parts[1] ?? '', 'vip_range end');
    if (first > last) throw badParam(`vip_range [${range}] starts after it ends`);
  } else {
    ({ first, last } = hostRange(cidr));
  }
  const addrs: number[] = [];
  for (let addr = first; addr <= last; addr++) if (!used.has(addr)) addrs.push(addr);
  return { addrs, explicit: false, rangeSize: last - first + 1 };
}

export const allocateVips: ActionHandler = (ctx) => {
  const p = ctx.params;
  const vxnet = lookup(ctx, ctx.store.tables.vxnets, p.required('vxnet_id'));
  const cidr = vxnet.router ? parseCidr(vxnet.router.ip_network) : undefined;
  if (cidr === undefined) throw denied(`vxnet [${vxnet.vxnet_id}] is not bound to a vpc router`);
  const count = p.int('count', { min: 1 }) ?? 1;
  const { addrs, explicit, rangeSize } = candidates(ctx, cidr, ctx.store.usedAddresses(vxnet.vxnet_id));
  if (!explicit && count > rangeSize) throw badParam(`count [${count}] is larger than vip_range [${rangeSize} addresses]`);
  // Addresses owned by NICs or other VIPs are skipped; fewer free ones than asked for means fewer VIPs.
  const chosen = explicit ? addrs : addrs.slice(0, count);
  if (chosen.length === 0) throw quotaExceeded(`no free address left in vxnet [${vxnet.vxnet_id}] for vips`);
  const existing = [...ctx.store.tables.vips.values()].filter((v) => v.owner === ctx.owner).length;
  if (existing + chosen.length > ctx.store.quotas.vips) {
    throw quotaExceeded(`vip quota [${ctx.store.quotas.vips}] exceeded: ${existing} exist, ${chosen.length} requested`);
  }
  const vips = chosen.map((addr): VipRecord => ({
    vip_id: ctx.ids.id('vip-', 8, (id) => ctx.store.hasId(id)),
    vip_name: p.str('vip_name') ?? '',
    vip_addr: formatIpv4(addr),
    vxnet_id: vxnet.vxnet_id,
    nic_id: '',
    instance_id: '',
    status: ctx.settings.vipsVisibleImmediately ? 'available' : 'pending',
    lock: null,
    owner: ctx.owner,
    zone: vxnet.zone,
    create_time: ctx.nowIso,
  }));
  for (const vip of vips) ctx.store.tables.vips.set(vip.vip_id, vip);
  const vipIds = vips.map((v) => v.vip_id);
  const job = createJob(ctx, { action: 'AllocateVips', resourceIds: vipIds, directive: { vxnet_id: vxnet.vxnet_id, vips: vipIds } });
  for (const vip of vips) vip.lock = job.job_id;
  return { job_id: job.job_id, vips: vipIds };
};

export const describeVips: ActionHandler = (ctx) => {
  const p = ctx.params;
  const vxnets = p.list('vxnets');
  if (vxnets.length === 0) throw missingParam('vxnets.1');
  const byVxnet = idFilter(vxnets);
  const byId = idFilter(p.list('vips'));
  const byAddr = idFilter(p.list('vip_addrs'));
  const name = p.str('vip_name');
  const matches = visible(ctx, 'vips', ctx.store.tables.vips).filter(
    (vip) =>
      vip.status === 'available' &&
      byVxnet(vip.vxnet_id) &&
      byId(vip.vip_id) &&
      byAddr(vip.vip_addr) &&
      (name === undefined || vip.vip_name === name),
  );
  const page = paginate(matches, p, ctx.settings.maxLimit);
  return { vip_set: page.items.map(vipView), total_count: page.total_count };
};

export const releaseVips: ActionHandler = (ctx) => {
  const ids = ctx.params.list('vips');
  if (ids.length === 0) throw missingParam('vips.1');
  const vips = ids.map((id) => {
    const vip = lookup(ctx, ctx.store.tables.vips, id);
    if (vip.status === 'pending' && !ctx.settings.vipsVisibleImmediately) throw notFound(id);
    if (vip.lock !== null) throw denied(`vip [${id}] is being operated by job [${vip.lock}], try later`);
    return vip;
  });
  const job = createJob(ctx, { action: 'ReleaseVips', resourceIds: ids, directive: { vips: ids } });
  for (const vip of vips) vip.lock = job.job_id;
  return { job_id: job.job_id };
};
