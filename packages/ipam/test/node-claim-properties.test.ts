import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IPPool } from '../src/index.ts';
import { checkConsistency, claimedAddresses, Ipam, IpamError, MemoryClaimLedger, MemoryIpamStore, NodeClaim } from '../src/index.ts';
import { at, pool } from './helpers.ts';
import { mapping, testOptions } from './ipam-helpers.ts';

// 28 usable addresses in 4 blocks: small enough that claims, trims and fixed IPs compete for them.
const POOL: IPPool = pool('vxnet-prop', '10.0.0.0/27', '10.0.0.2', '10.0.0.29', 29);
const NODES = ['node-a', 'node-b', 'node-c'];

type Command =
  | { readonly kind: 'add'; readonly node: number; readonly pod: number; readonly fixed: number | undefined }
  | { readonly kind: 'del'; readonly pod: number }
  | { readonly kind: 'sync'; readonly node: number; readonly reconcile: boolean }
  | { readonly kind: 'restart'; readonly node: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), node: fc.nat(2), pod: fc.nat(39), fixed: fc.option(fc.integer({ min: 2, max: 29 }), { nil: undefined }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('del' as const), pod: fc.nat(39) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sync' as const), node: fc.nat(2), reconcile: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), node: fc.nat(2) }) },
);

describe('node claims (properties)', () => {
  it('never give one address to two live pods, with three nodes claiming, trimming and taking fixed IPs at once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(command, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 25 }), async (batches) => {
        const store = new MemoryIpamStore();
        await new Ipam(store).ensurePool(POOL);
        await store.setIpamConfig(mapping({ Default: ['vxnet-prop'] }));
        let clock = 0;
        const ipam = new Ipam(store, testOptions({ cooldownMs: 5, clock: () => at(clock) }));
        const ledgers = NODES.map(() => new MemoryClaimLedger());
        const open = async (i: number) => {
          const c = await NodeClaim.open({ ipam, ledger: ledgers[i]!, node: NODES[i]!, warm: { minimum: 1, target: 3, maximum: 4 }, schedule: () => {} });
          await c.sync({ reconcile: true });
          return c;
        };
        const claims = await Promise.all(NODES.map((_, i) => open(i)));
        // pod → [node index, address]
        const live = new Map<number, [number, string]>();
        const busy = new Set<number>();

        for (const batch of batches) {
          clock += 2;
          // Operations of a batch run at once; a restart (one agent process replacing another) after them, as
          // a process's operations end with it.
          await Promise.all(
            batch.filter((c) => c.kind !== 'restart').map(async (c) => {
              try {
                if (c.kind === 'add') {
                  if (live.has(c.pod) || busy.has(c.pod)) return;
                  busy.add(c.pod);
                  const fixedIps = c.fixed === undefined ? undefined : [`10.0.0.${c.fixed}`];
                  const a = await claims[c.node]!.allocate({ handleId: `ns-p${c.pod}-x`, namespace: 'ns', pod: `p${c.pod}`, node: NODES[c.node]!, fixedIps });
                  live.set(c.pod, [c.node, a.address]);
                } else if (c.kind === 'del') {
                  const held = live.get(c.pod);
                  if (held === undefined || busy.has(c.pod)) return;
                  busy.add(c.pod);
                  await claims[held[0]]!.release(`ns-p${c.pod}-x`);
                  live.delete(c.pod);
                } else if (c.kind === 'sync') {
                  await claims[c.node]!.sync({ reconcile: c.reconcile });
                }
              } catch (error) {
                if (!(error instanceof IpamError)) throw error;
              } finally {
                if (c.kind === 'add' || c.kind === 'del') busy.delete(c.pod);
              }
            }),
          );
          for (const c of batch) {
            if (c.kind !== 'restart') continue;
            await claims[c.node]!.stop();
            claims[c.node] = await open(c.node);
          }
          const addresses = [...live.values()].map(([, a]) => a);
          expect(new Set(addresses).size).toBe(addresses.length);
          // Each claim-assigned address is held in the store by its node's claim, so no other node can take it.
          const blocks = (await store.listBlocks()).map((b) => b.object);
          for (const [, [node, address]] of live) {
            if (claims[node]!.assignmentOf(address) === undefined) continue;
            const holders = NODES.filter((n) => blocks.some((b) => claimedAddresses(b.spec, n).some((c) => c.address === address)));
            expect(holders).toEqual([NODES[node]]);
          }
        }
        for (const c of claims) await c.sync({ reconcile: true });
        const [pools, blocks, handles] = await Promise.all([store.listPools(), store.listBlocks(), store.listHandles()]);
        const report = checkConsistency({
          pools: pools.map((v) => v.object),
          blocks: blocks.map((v) => v.object),
          handles: handles.map((v) => v.object),
          livePods: [],
          now: at(clock),
          graceMs: Number.MAX_SAFE_INTEGER,
          liveNodes: NODES,
        });
        expect(report.findings.filter((f) => f.kind !== 'DeadPodAllocation')).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});
