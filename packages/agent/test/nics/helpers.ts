import { randomBytes } from 'node:crypto';
import type { IaasClient } from '@hostnic/iaas-client';
import { clientFor as fakeClient } from '@hostnic/iaas-client/fake';
import type { FakeQingCloud } from '@hostnic/iaas-client/fake';
import { readSnapshot } from '@hostnic/netlink';
import type { Netns, Snapshot } from '@hostnic/netlink';
// Relative on purpose: the agent must not depend on the private sandbox package.
import { startSandboxNetwork } from '@hostnic/sandbox/cluster';
import type { SandboxNetwork, SandboxNetworkOptions } from '@hostnic/sandbox/cluster';
import { NicManager } from '../../src/nics/index.ts';
import type { NicManagerOptions } from '../../src/nics/index.ts';
import type { Intent, IntentKind, NicRecord, NicStore, PodRecord } from '../../src/types.ts';

export const isRoot = process.getuid?.() === 0;

export const VXNET_A = { vxnetId: 'vxnet-pods001', gateway: '172.16.3.1', network: '172.16.3.0/24', tunnelType: 'vxlan' } as const;
export const VXNET_B = { vxnetId: 'vxnet-pods003', gateway: '172.16.5.1', network: '172.16.5.0/24', tunnelType: 'vxlan' } as const;
export const VXNET_VLAN = { vxnetId: 'vxnet-pods002', gateway: '172.16.4.1', network: '172.16.4.0/24', tunnelType: 'vlan' } as const;

/** A NicStore in memory with the datastore's contract: atomic methods, tables from records and `exclude`. */
export class MemoryNicStore implements NicStore {
  readonly nics = new Map<string, NicRecord>();
  readonly intents = new Map<string, Intent>();
  readonly pods = new Map<string, PodRecord[]>();
  #seq = 0;

  async getNic(nicId: string): Promise<NicRecord | undefined> {
    const r = this.nics.get(nicId);
    return r && structuredClone(r);
  }
  async nicForVxnet(vxnetId: string): Promise<NicRecord | undefined> {
    const r = [...this.nics.values()].find((n) => n.vxnet.vxnetId === vxnetId);
    return r && structuredClone(r);
  }
  async listNics(): Promise<NicRecord[]> {
    return [...this.nics.values()].map((r) => structuredClone(r));
  }
  async putNic(nic: NicRecord): Promise<void> {
    this.nics.set(nic.nicId, structuredClone(nic));
  }
  async deleteNic(nicId: string): Promise<void> {
    this.nics.delete(nicId);
  }
  async allocateRouteTable(base: number, exclude: readonly number[] = [], prefer?: number): Promise<number> {
    const held = new Set([...this.nics.values()].map((n) => n.routeTable));
    if (prefer !== undefined && prefer >= base && !held.has(prefer)) return prefer;
    const used = new Set([...held, ...exclude]);
    let t = base;
    while (used.has(t)) t++;
    return t;
  }
  /** Tables are held by records only here: an allocation and its putNic cannot be told apart. */
  async listRouteTables(): Promise<{ table: number; nicId?: string }[]> {
    return [...this.nics.values()].map((n) => ({ table: n.routeTable, nicId: n.nicId })).sort((a, b) => a.table - b.table);
  }
  async releaseRouteTable(): Promise<boolean> {
    return false;
  }
  async beginIntent(kind: IntentKind, data: Intent['data']): Promise<Intent> {
    const intent: Intent = { id: `i${++this.#seq}`, kind, data: { ...data }, startedAt: new Date().toISOString() };
    this.intents.set(intent.id, intent);
    return structuredClone(intent);
  }
  async finishIntent(id: string): Promise<void> {
    this.intents.delete(id);
  }
  async listIntents(): Promise<Intent[]> {
    return [...this.intents.values()].map((i) => structuredClone(i));
  }
  async podsOnNic(nicId: string): Promise<PodRecord[]> {
    return [...(this.pods.get(nicId) ?? [])];
  }
}

export function clientFor(fake: FakeQingCloud): IaasClient {
  return fakeClient(fake, { backoff: { baseDelayMs: 5, maxDelayMs: 20 } });
}

/** A settable clock for grace periods and idle ages. */
export class TestClock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
}

export interface Harness {
  sandbox: SandboxNetwork;
  client: IaasClient;
  store: MemoryNicStore;
  clock: TestClock;
  netns: Netns;
  instanceId: string;
  manager(extra?: Partial<NicManagerOptions>): NicManager;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<SandboxNetworkOptions> = {}): Promise<Harness> {
  const sandbox = await startSandboxNetwork({
    prefix: `hn${randomBytes(2).toString('hex')}`,
    nodes: 1,
    vxnets: [
      { id: 'vxnet-mgmt001', cidr: '10.100.0.0/24', management: true },
      { id: VXNET_A.vxnetId, cidr: VXNET_A.network },
      { id: VXNET_VLAN.vxnetId, cidr: VXNET_VLAN.network, tunnelType: 'vlan' },
      { id: VXNET_B.vxnetId, cidr: VXNET_B.network },
    ],
    fakeOptions: { jobDurations: { pendingMs: 5, workMs: 20 } },
    ...options,
  });
  const client = clientFor(sandbox.qingcloud);
  const store = new MemoryNicStore();
  const clock = new TestClock();
  const node = sandbox.node('node-1');
  return {
    sandbox,
    client,
    store,
    clock,
    netns: node.netns,
    instanceId: node.instanceId,
    manager: (extra = {}) =>
      new NicManager({
        iaas: client,
        store,
        instanceId: node.instanceId,
        netns: node.netns,
        attachTimeoutMs: 5_000,
        linkTimeoutMs: 3_000,
        linkPollMs: 50,
        jobPoll: { initialIntervalMs: 10, maxIntervalMs: 50 },
        clock,
        ...extra,
      }),
    close: async () => {
      try {
        await client.close();
      } finally {
        await sandbox.close();
      }
    },
  };
}

export async function nodeState(h: Harness, table: number): Promise<Snapshot> {
  return readSnapshot({ netns: h.netns, parts: ['links', 'routes', 'rules'], routeTable: table });
}

export function actions(fake: FakeQingCloud): string[] {
  return fake.requests().map((r) => r.action ?? '?');
}
