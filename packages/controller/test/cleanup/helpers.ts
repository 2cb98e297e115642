import type { IaasClient } from '@hostnic/iaas-client';
import type { Nic } from '@hostnic/iaas-client';
import { clientFor, startFakeQingCloud } from '@hostnic/iaas-client/fake';
import type { FakeQingCloud, NicRecord } from '@hostnic/iaas-client/fake';
import type { Node } from '../../src/kube/objects.ts';
import { INSTANCE_ID_ANNOTATION, NicJanitor, NodeInventory } from '../../src/cleanup/index.ts';
import type { NicJanitorOptions } from '../../src/cleanup/index.ts';

export const MINUTE = 60_000;
export const GRACE = 10 * MINUTE;
export const T0 = Date.UTC(2025, 0, 1);

export const VXNET = 'vxnet-pods001';
export const CLUSTER_TAG = 'tag-cluster1';
export const OTHER_TAG = 'tag-othercl1';

/** Nodes of the cluster, one that left it, and an instance of another cluster. */
export const LIVE_1 = 'i-live0001';
export const LIVE_2 = 'i-live0002';
export const GONE = 'i-gone0001';
export const OTHER = 'i-other001';
/** Never a node of this cluster (as far as the inventory knows). */
export const STRANGER = 'i-strange1';

export function node(name: string, instanceId?: string, extra: { providerID?: string } = {}): Node {
  return {
    metadata: {
      name,
      ...(instanceId === undefined ? {} : { annotations: { [INSTANCE_ID_ANNOTATION]: instanceId } }),
    },
    ...(extra.providerID === undefined ? {} : { spec: { providerID: extra.providerID } }),
  };
}

/** LIVE_1 and LIVE_2 are nodes; GONE was one until half an hour ago. */
export function clusterInventory(now: number): NodeInventory {
  const inventory = new NodeInventory();
  inventory.observe([node('node-1', LIVE_1), node('node-2', LIVE_2), node('node-3', GONE)], now - 60 * MINUTE);
  inventory.observe([node('node-1', LIVE_1), node('node-2', LIVE_2)], now - 30 * MINUTE);
  return inventory;
}

/** A settable clock for grace periods: tests move it instead of sleeping. */
export class TestClock {
  ms = T0;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface Harness {
  fake: FakeQingCloud;
  client: IaasClient;
  clock: TestClock;
  janitor(extra?: Partial<NicJanitorOptions>): NicJanitor;
  /** A hostnic NIC as the agent makes it; attached when `instanceId` is given. */
  addNic(name: string, options?: { instanceId?: string; tags?: string[]; role?: 0 | 1 }): Promise<string>;
  nic(nicId: string): NicRecord | undefined;
  calls(action: string): number;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const fake = await startFakeQingCloud({
    clock: 'realtime',
    jobDurations: { pendingMs: 0, workMs: 10 },
    seed: 5,
    // Small pages, so that every listing in these tests pages.
    maxLimit: 3,
  });
  const client = clientFor(fake, { config: { connection_retries: 2 }, backoff: { baseDelayMs: 1, maxDelayMs: 5 } });
  fake.addVxnet({ vxnet_id: VXNET });
  for (const id of [LIVE_1, LIVE_2, GONE, OTHER, STRANGER]) fake.addInstance({ instance_id: id, vxnet_id: VXNET });
  for (const id of [CLUSTER_TAG, OTHER_TAG]) fake.addTag({ tag_id: id });
  const clock = new TestClock();
  return {
    fake,
    client,
    clock,
    janitor: (extra = {}) =>
      new NicJanitor({
        iaas: client,
        clusterTags: [CLUSTER_TAG],
        graceMs: GRACE,
        now: clock.now,
        jobTimeoutMs: 5_000,
        jobPoll: { initialIntervalMs: 5, maxIntervalMs: 20 },
        ...extra,
      }),
    async addNic(name, options = {}) {
      const nic = fake.addNic({
        nic_name: name,
        vxnet_id: VXNET,
        ...(options.instanceId === undefined ? {} : { instance_id: options.instanceId }),
        ...(options.role === undefined ? {} : { role: options.role }),
      });
      // Through the API, as the agent tags its NICs.
      const pairs = (options.tags ?? []).map((tagId) => ({ tagId, resourceId: nic.nic_id, resourceType: 'nic' }));
      if (pairs.length > 0) await client.attachTags(pairs);
      return nic.nic_id;
    },
    nic: (nicId) => fake.nics().find((n) => n.nic_id === nicId),
    calls: (action) => fake.requests({ action }).length,
    close: async () => {
      await client.close();
      await fake.close();
    },
  };
}

/** A NIC as DescribeNics returns it, for the pure planner tests. */
export function nicOf(fields: Partial<Nic> & { nicId: string }): Nic {
  return {
    nicName: '',
    vxnetId: VXNET,
    role: 0,
    status: 'available',
    privateIp: null,
    instanceId: '',
    sequence: 0,
    securityGroup: undefined,
    tags: [],
    owner: undefined,
    createTime: undefined,
    statusTime: undefined,
    ...fields,
  };
}
