/**
 * Reconcile (docs/state.md): compares the store, the IaaS (our NICs by name, paged, plus the
 * records' NICs by id) and the kernel (through repair, which reads the links by MAC), vxnet by vxnet under
 * that vxnet's lock, and converges:
 * - unfinished intents are finished or undone (a NIC created before a crash is adopted when attached here,
 *   deleted when detached);
 * - NICs named ours and attached here without a record are adopted (new record, free table, host setup);
 *   a second NIC for a vxnet that already has one is released;
 * - every record is verified and repaired, re-attached when its NIC is detached, dropped when it vanished;
 * - detached NICs of ours without a record are deleted once seen for the grace period, after a second look;
 * - NICs attached to other instances are never touched.
 */

import type { Nic } from '@hostnic/iaas-client';
import type { Intent, NicRecord, VxnetInfo } from '../types.ts';
import { claimTable, releaseStaleTables } from './create.ts';
import type { NicContext } from './context.ts';
import { errorText } from '@hostnic/runtime';
import { NicError } from './errors.ts';
import { adoptableTable, newRecord } from './host.ts';
import { describeNic } from './iaas-ops.ts';
import { dropVanished, finishRelease } from './release.ts';
import { repairNic } from './repair.ts';
import { disposeJournaled, disposeNic } from './rollback.ts';

export interface ReconcileSummary {
  /** NICs attached here without a record that got one. */
  adopted: string[];
  /** Records whose detached NIC was attached again. */
  reattached: string[];
  /** Records whose host state had to change. */
  repaired: string[];
  /** NICs deleted in the IaaS (orphans, duplicates, undone creations). */
  deleted: string[];
  /** Records dropped because their NIC vanished from the IaaS. */
  dropped: string[];
  /** Detached orphans still inside their grace period. */
  waiting: string[];
  intentsFinished: number;
  /** Releases a crash cut off after they began, finished (never re-attached). */
  releasesFinished: string[];
  /** Route table reservations no record used (a crash between the allocation and the record), given back. */
  tablesReleased: number[];
  errors: { vxnetId: string; nicId?: string; error: string }[];
}

function emptySummary(): ReconcileSummary {
  return { adopted: [], reattached: [], repaired: [], deleted: [], dropped: [], waiting: [], intentsFinished: 0, releasesFinished: [], tablesReleased: [], errors: [] };
}

const NIC_INTENTS = new Set<Intent['kind']>(['create-nic', 'attach-nic', 'release-nic']);

function intentString(intent: Intent, key: string): string | undefined {
  const v = intent.data[key];
  return typeof v === 'string' ? v : undefined;
}

async function iaasView(ctx: NicContext, records: readonly NicRecord[], signal?: AbortSignal): Promise<Map<string, Nic>> {
  const options = signal ? { signal } : {};
  const named = await ctx.iaas.describeNics({ nicName: ctx.nicName }, options);
  const recorded = records.length === 0 ? [] : await ctx.iaas.describeNics({ nics: records.map((r) => r.nicId) }, options);
  const view = new Map<string, Nic>();
  // Only secondary NICs: the instance's primary NIC is never hostnic's, whatever its name.
  for (const nic of [...named, ...recorded]) if (nic.role === 0) view.set(nic.nicId.toLowerCase(), nic);
  return view;
}

async function vxnetInfo(ctx: NicContext, vxnetId: string, signal?: AbortSignal): Promise<VxnetInfo> {
  const vxnets = await ctx.iaas.describeVxnetsByIds([vxnetId], signal);
  const v = vxnets.get(vxnetId);
  if (!v) throw new NicError('describe', `vxnet ${vxnetId} not found`, { vxnetId });
  if (!v.router) throw new NicError('describe', `vxnet ${vxnetId} should bind to vpc`, { vxnetId });
  return {
    vxnetId,
    gateway: v.router.managerIp,
    network: v.router.ipNetwork,
    tunnelType: v.tunnelType === 'vlan' ? 'vlan' : 'vxlan',
  };
}

interface VxnetWork {
  vxnetId: string;
  nics: Nic[];
}

export async function reconcileNics(ctx: NicContext, orphansSeen: Map<string, number>, signal?: AbortSignal): Promise<ReconcileSummary> {
  const summary = emptySummary();
  const records = await ctx.store.listNics();
  const view = await iaasView(ctx, records, signal);
  const intents = (await ctx.store.listIntents()).filter((i) => NIC_INTENTS.has(i.kind));

  const work = new Map<string, VxnetWork>();
  const vxnetOf = (id: string): VxnetWork => {
    let w = work.get(id);
    if (!w) work.set(id, (w = { vxnetId: id, nics: [] }));
    return w;
  };
  for (const r of records) vxnetOf(r.vxnet.vxnetId);
  for (const nic of view.values()) vxnetOf(nic.vxnetId).nics.push(nic);
  for (const i of intents) {
    const id = intentString(i, 'vxnetId');
    if (id !== undefined) vxnetOf(id);
  }

  await Promise.all(
    [...work.values()].map((w) =>
      ctx.vxnetLocks.run(w.vxnetId, () => reconcileVxnet(ctx, w, orphansSeen, summary, signal)).catch((err: unknown) => {
        summary.errors.push({ vxnetId: w.vxnetId, error: errorText(err) });
      }),
    ),
  );
  try {
    summary.tablesReleased.push(...(await releaseStaleTables(ctx)));
  } catch (err) {
    summary.errors.push({ vxnetId: '-', error: `giving back stale route tables: ${errorText(err)}` });
  }
  // Forget orphans that are gone or adopted, so the map does not grow.
  for (const id of orphansSeen.keys()) if (!summary.waiting.includes(id)) orphansSeen.delete(id);
  if (summary.errors.length > 0) ctx.log.warn('reconcile finished with errors', { errors: summary.errors });
  return summary;
}

async function reconcileVxnet(
  ctx: NicContext,
  work: VxnetWork,
  orphansSeen: Map<string, number>,
  summary: ReconcileSummary,
  signal?: AbortSignal,
): Promise<void> {
  const { vxnetId } = work;
  const fail = (err: unknown, nicId?: string): void => {
    summary.errors.push({ vxnetId, ...(nicId === undefined ? {} : { nicId }), error: errorText(err) });
  };
  // Read again under the lock: an ensureNic that held it may have changed both.
  let record = await ctx.store.nicForVxnet(vxnetId);
  const intents = (await ctx.store.listIntents()).filter(
    (i) => NIC_INTENTS.has(i.kind) && intentString(i, 'vxnetId') === vxnetId,
  );

  // Intents seen under the lock are left over from a crash or a failed undo: nobody is working on them.
  const journaled = new Set<string>();
  for (const intent of intents) {
    const nicId = intentString(intent, 'nicId')?.toLowerCase();
    try {
      if (intent.kind === 'release-nic' && nicId !== undefined && record?.nicId !== nicId) {
        const outcome = await disposeNic(ctx, nicId, vxnetId, signal);
        if (outcome === 'deleted') summary.deleted.push(nicId);
      } else if (intent.kind === 'release-nic' && record !== undefined && record.nicId === nicId && (await ctx.store.podsOnNic(nicId)).length === 0) {
        // The release of the recorded NIC began and was cut off (e.g. after the detach): finish it; repairing
        // the record would attach the NIC again.
        const outcome = await finishRelease(ctx, record, intent.id, signal);
        if (outcome === 'deleted') summary.deleted.push(nicId);
        summary.releasesFinished.push(nicId);
        record = undefined;
        summary.intentsFinished++;
        continue;
      } else if (nicId !== undefined && record?.nicId !== nicId) {
        // attach-nic without a record: the NIC is handled below as an orphan, without grace.
        journaled.add(nicId);
      } else if (intent.kind === 'create-nic') {
        // CreateNics may have succeeded before the crash: every NIC of ours in this vxnet without a
        // record is an orphan to resolve now.
        for (const nic of work.nics) if (nic.nicId.toLowerCase() !== record?.nicId) journaled.add(nic.nicId.toLowerCase());
      }
      await ctx.store.finishIntent(intent.id);
      summary.intentsFinished++;
    } catch (err) {
      fail(err, nicId);
    }
  }

  for (const nic of work.nics) {
    const nicId = nic.nicId.toLowerCase();
    if (nicId === record?.nicId) continue;
    if (nic.nicName !== ctx.nicName && !journaled.has(nicId)) continue;
    try {
      if (nic.status === 'in-use') {
        if (nic.instanceId !== ctx.instanceId) continue;
        if (record) {
          // A second NIC for a vxnet that has one: pods use the recorded one, so this one goes.
          const error = await disposeJournaled(ctx, nicId, vxnetId, signal);
          if (error === undefined) summary.deleted.push(nicId);
          else fail(error, nicId);
          continue;
        }
        const vxnet = await vxnetInfo(ctx, vxnetId, signal);
        record = await claimTable(ctx, (table) => newRecord(ctx, nicId, vxnet, table, 'Init'), await adoptableTable(ctx, nicId, vxnet.network));
        summary.adopted.push(nicId);
        ctx.log.info('adopted NIC attached here without a record', { nicId, vxnetId, table: record.routeTable });
        continue;
      }
      if (!journaled.has(nicId)) {
        const firstSeen = orphansSeen.get(nicId);
        const now = ctx.clock.now();
        if (firstSeen === undefined) orphansSeen.set(nicId, now);
        if (firstSeen === undefined || now - firstSeen < ctx.orphanGraceMs) {
          summary.waiting.push(nicId);
          continue;
        }
        // Second look: an ensureNic of another agent generation, or an operator, may have acted meanwhile.
        const again = await describeNic(ctx, nicId, signal);
        if (!again || again.status !== 'available' || again.nicName !== ctx.nicName) continue;
        if (await ctx.store.getNic(nicId)) continue;
      }
      const error = await disposeJournaled(ctx, nicId, vxnetId, signal);
      if (error === undefined) summary.deleted.push(nicId);
      else fail(error, nicId);
    } catch (err) {
      fail(err, nicId);
    }
  }

  if (!record) return;
  try {
    const outcome = await repairNic(ctx, record, signal);
    if (outcome.kind === 'gone') {
      await dropVanished(ctx, record);
      summary.dropped.push(record.nicId);
    } else {
      if (outcome.reattached) summary.reattached.push(record.nicId);
      else if (outcome.changed) summary.repaired.push(record.nicId);
    }
  } catch (err) {
    fail(err, record.nicId);
  }
}
