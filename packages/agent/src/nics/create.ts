/**
 * Creating a NIC for a vxnet (docs/iaas.md) with the original's crash windows
 * closed: the 'create-nic' intent is journaled before CreateNics, the record (claiming the route table)
 * right after it, every wait is bounded, and a failure detaches and deletes what was made.
 * Runs under the vxnet's lock, with no record for the vxnet.
 */

import { AmbiguousCreateError } from '@hostnic/iaas-client';
import type { NicRecord, VxnetInfo } from '../types.ts';
import type { NicContext } from './context.ts';
import { errorText } from '@hostnic/runtime';
import { NicError, NoFreeNicError } from './errors.ts';
import { tryKeepBridgeLease } from './bridge-lease.ts';
import { cleanupHost, failedPhase, kernelTables, newRecord, setupHost, specOf } from './host.ts';
import { attachAndWait } from './iaas-ops.ts';
import { disposeJournaled } from './rollback.ts';
import { waitForLink } from './wait-link.ts';

/**
 * Allocates the lowest free table (or `prefer`, the table an adopted NIC's bridge already carries, when no
 * record holds it) and writes the record in one step, so two vxnets never share a table.
 */
export async function claimTable(ctx: NicContext, build: (table: number) => NicRecord, prefer?: number): Promise<NicRecord> {
  return ctx.tableLock.run('tables', async () => {
    const exclude = await kernelTables(ctx);
    const table = await ctx.store.allocateRouteTable(ctx.routeTableBase, exclude, prefer);
    await ctx.failpoint('nic:table-reserved');
    try {
      const record = build(table);
      await ctx.store.putNic(record);
      return record;
    } catch (err) {
      // Unused, the reservation would hold the table until the reconciler gives it back.
      await ctx.store.releaseRouteTable(table).catch((e: unknown) => ctx.log.warn('could not give back a route table', { table, error: errorText(e) }));
      throw err;
    }
  });
}

/**
 * Gives back the reservations no record uses: left by a crash between the allocation and the record. Under the
 * table lock, so a claim in progress is never mistaken for one.
 * @returns the tables given back
 */
export async function releaseStaleTables(ctx: NicContext): Promise<number[]> {
  return ctx.tableLock.run('tables', async () => {
    const released: number[] = [];
    for (const entry of await ctx.store.listRouteTables()) {
      if (entry.nicId === undefined && (await ctx.store.releaseRouteTable(entry.table))) released.push(entry.table);
    }
    return released;
  });
}

async function createInIaas(ctx: NicContext, vxnet: VxnetInfo, signal?: AbortSignal): Promise<string> {
  const intent = await ctx.store.beginIntent('create-nic', {
    vxnetId: vxnet.vxnetId,
    nicName: ctx.nicName,
    instanceId: ctx.instanceId,
  });
  let nicId: string;
  try {
    const created = await ctx.iaas.createNics({ vxnet: vxnet.vxnetId, nicName: ctx.nicName, count: 1, disableIp: true }, signal);
    const first = created[0];
    if (!first) throw new Error('CreateNics returned no NIC');
    nicId = first.nicId.toLowerCase();
    await ctx.failpoint('nic:created');
    for (const extra of created.slice(1)) {
      // Cannot happen with count 1 unless an ambiguous retry found two: keep one, dispose of the rest.
      await disposeJournaled(ctx, extra.nicId.toLowerCase(), vxnet.vxnetId, signal);
    }
  } catch (err) {
    // After an ambiguous failure a NIC may exist: the intent stays so reconcile finds it by name.
    if (!(err instanceof AmbiguousCreateError)) await ctx.store.finishIntent(intent.id);
    throw new NicError('create', `create of a NIC in ${vxnet.vxnetId} failed: ${errorText(err)}`, { vxnetId: vxnet.vxnetId, cause: err });
  }
  try {
    await claimTable(ctx, (table) => newRecord(ctx, nicId, vxnet, table, 'CreateAndAttach'));
  } catch (err) {
    await disposeJournaled(ctx, nicId, vxnet.vxnetId, signal);
    await ctx.store.finishIntent(intent.id);
    throw new NicError('route-table', `recording NIC ${nicId} of ${vxnet.vxnetId} failed: ${errorText(err)}`, {
      vxnetId: vxnet.vxnetId,
      nicId,
      cause: err,
    });
  }
  // From here the record names the NIC; reconcile re-attaches or releases it after a crash.
  await ctx.store.finishIntent(intent.id);
  return nicId;
}

async function tag(ctx: NicContext, nicId: string, signal?: AbortSignal): Promise<void> {
  if (ctx.tagId === undefined) return;
  try {
    await ctx.iaas.attachTags([{ tagId: ctx.tagId, resourceId: nicId, resourceType: 'nic' }], signal);
  } catch (err) {
    // The original ignores the result: a missing tag is cosmetic, a missing NIC is not.
    ctx.log.warn('tagging NIC failed', { nicId, tagId: ctx.tagId, error: errorText(err) });
  }
}

/** Creates, attaches and sets up a NIC for `vxnet`; on failure nothing is left behind but a logged intent. */
export async function createNic(ctx: NicContext, vxnet: VxnetInfo, signal?: AbortSignal): Promise<NicRecord> {
  const records = await ctx.store.listNics();
  if (records.length >= ctx.maxNic) throw new NoFreeNicError(ctx.maxNic, vxnet.vxnetId);
  const started = ctx.clock.now();
  const nicId = await createInIaas(ctx, vxnet, signal);
  let record = await ctx.store.getNic(nicId);
  if (!record) throw new NicError('store', `record of NIC ${nicId} vanished right after it was written`, { nicId, vxnetId: vxnet.vxnetId });
  const attach = await ctx.store.beginIntent('attach-nic', { nicId, vxnetId: vxnet.vxnetId, instanceId: ctx.instanceId });
  try {
    await tag(ctx, nicId, signal);
    await attachAndWait(ctx, nicId, vxnet.vxnetId, signal);
    await ctx.failpoint('nic:attached');
    await waitForLink(ctx, nicId, vxnet.vxnetId, signal);
    record = { ...record, phase: 'JoinBridge' };
    await ctx.store.putNic(record);
    try {
      await setupHost(ctx, specOf(record));
    } catch (err) {
      throw new NicError('setup', `host setup of NIC ${nicId} (${vxnet.vxnetId}, table ${record.routeTable}) failed: ${errorText(err)}`, {
        nicId,
        vxnetId: vxnet.vxnetId,
        cause: err,
      });
    }
    record = { ...record, phase: 'Succeeded' };
    delete record.lastError;
    await ctx.store.putNic(record);
    await ctx.store.finishIntent(attach.id);
    record = await tryKeepBridgeLease(ctx, record);
    ctx.log.info('NIC created', { nicId, vxnetId: vxnet.vxnetId, table: record.routeTable, ms: ctx.clock.now() - started });
    return record;
  } catch (err) {
    // Not under the caller's signal: an aborted ADD must still not leave a NIC behind.
    await undoCreate(ctx, record, err);
    await ctx.store.finishIntent(attach.id).catch(() => {});
    throw err;
  }
}

async function undoCreate(ctx: NicContext, record: NicRecord, cause: unknown): Promise<void> {
  const phase = await failedPhase(ctx, specOf(record));
  ctx.log.warn('NIC creation failed; undoing it', { nicId: record.nicId, vxnetId: record.vxnet.vxnetId, phase, error: errorText(cause) });
  try {
    await cleanupHost(ctx, specOf(record));
  } catch (err) {
    ctx.log.warn('host cleanup after failed creation failed', { nicId: record.nicId, error: errorText(err) });
  }
  await disposeJournaled(ctx, record.nicId, record.vxnet.vxnetId);
  try {
    await ctx.store.deleteNic(record.nicId);
  } catch (err) {
    ctx.log.error('could not drop the record of a failed NIC', { nicId: record.nicId, error: errorText(err) });
  }
}
