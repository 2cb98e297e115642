import type {
  IPAMBlock,
  IPAMHandle,
  IpamConfigData,
  IpamStore,
  IPPool,
  IPPoolStatus,
  ListBlocksOptions,
  LivePod,
  Versioned,
} from '@hostnic/ipam';
import { Ipam, MemoryIpamStore, newIPPool, podRangeOfVxnet } from '@hostnic/ipam';
import type { IpamCliDeps } from '../../src/cli/ipam.ts';
import { ipamCommand } from '../../src/cli/ipam.ts';

export const POOL = 'vxnet-abc1234';
export const BLOCK0 = '4100-172-16-3-0-27';
export const KEY0 = '4100-172.16.3.0/27';
export const T0 = new Date('2025-03-03T08:01:02.123Z');
export const at = (ms: number): Date => new Date(T0.getTime() + ms);
export const MINUTE = 60_000;

/** The spec's running example: vxnet-abc1234, 172.16.3.0/24, pod range .2 – .242, blocks of /27. */
export function runningPool(): IPPool {
  return newIPPool(
    podRangeOfVxnet({
      vxnetId: POOL,
      ipNetwork: '172.16.3.0/24',
      managerIp: '172.16.3.1',
      dynIpStart: '172.16.3.2',
      dynIpEnd: '172.16.3.254',
      tunnelType: 'vxlan',
    }),
    27,
  );
}

/** Namespace `default` mapped to the first block, so addresses are predictable: .2, .3, .4, ... */
export const MAPPING: IpamConfigData = {
  'subnet-auto-assign': 'off',
  ipam: JSON.stringify({ Default: [POOL], default: [BLOCK0] }),
};

export const handleOf = (pod: string): string => `default-${pod}-c0ffee${pod.length}`;

/** The running example after three pods in `default`: nginx .2, web .3, db .4 (all at T0 on node-1). */
export async function seedRunningExample(store: IpamStore): Promise<Ipam> {
  const ipam = new Ipam(store, { clock: () => T0, sleep: async () => {} });
  await ipam.ensurePool(runningPool());
  await store.setIpamConfig(MAPPING);
  for (const pod of ['nginx', 'web', 'db']) {
    await ipam.allocate({ handleId: handleOf(pod), namespace: 'default', pod, node: 'node-1' });
  }
  return ipam;
}

export const livePods = (...names: string[]): LivePod[] => names.map((name) => ({ namespace: 'default', name }));

/** A store the commands may close without losing the data the test still looks at. */
export class KeepOpen implements IpamStore {
  readonly inner: IpamStore;
  closed = 0;

  constructor(inner: IpamStore) {
    this.inner = inner;
  }

  getPool(name: string): Promise<Versioned<IPPool> | undefined> {
    return this.inner.getPool(name);
  }
  listPools(): Promise<Versioned<IPPool>[]> {
    return this.inner.listPools();
  }
  createPool(pool: IPPool): Promise<Versioned<IPPool>> {
    return this.inner.createPool(pool);
  }
  updatePool(pool: IPPool, expectedVersion: string): Promise<Versioned<IPPool>> {
    return this.inner.updatePool(pool, expectedVersion);
  }
  updatePoolStatus(name: string, status: IPPoolStatus, expectedVersion: string): Promise<Versioned<IPPool>> {
    return this.inner.updatePoolStatus(name, status, expectedVersion);
  }
  deletePool(name: string, expectedVersion?: string): Promise<void> {
    return this.inner.deletePool(name, expectedVersion);
  }
  getBlock(name: string): Promise<Versioned<IPAMBlock> | undefined> {
    return this.inner.getBlock(name);
  }
  listBlocks(options?: ListBlocksOptions): Promise<Versioned<IPAMBlock>[]> {
    return this.inner.listBlocks(options);
  }
  createBlock(block: IPAMBlock): Promise<Versioned<IPAMBlock>> {
    return this.inner.createBlock(block);
  }
  updateBlock(block: IPAMBlock, expectedVersion: string): Promise<Versioned<IPAMBlock>> {
    return this.inner.updateBlock(block, expectedVersion);
  }
  deleteBlock(name: string, expectedVersion?: string): Promise<void> {
    return this.inner.deleteBlock(name, expectedVersion);
  }
  getHandle(name: string): Promise<Versioned<IPAMHandle> | undefined> {
    return this.inner.getHandle(name);
  }
  listHandles(): Promise<Versioned<IPAMHandle>[]> {
    return this.inner.listHandles();
  }
  createHandle(handle: IPAMHandle): Promise<Versioned<IPAMHandle>> {
    return this.inner.createHandle(handle);
  }
  updateHandle(handle: IPAMHandle, expectedVersion: string): Promise<Versioned<IPAMHandle>> {
    return this.inner.updateHandle(handle, expectedVersion);
  }
  deleteHandle(name: string, expectedVersion?: string): Promise<void> {
    return this.inner.deleteHandle(name, expectedVersion);
  }
  getIpamConfig(): Promise<Versioned<IpamConfigData> | undefined> {
    return this.inner.getIpamConfig();
  }
  setIpamConfig(data: IpamConfigData, expectedVersion?: string): Promise<Versioned<IpamConfigData>> {
    return this.inner.setIpamConfig(data, expectedVersion);
  }
  async close(): Promise<void> {
    this.closed++;
  }
}

export interface Run {
  readonly code: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `ipam <args>` with test doubles for the cluster (unless given) and collects its output and exit code. */
export async function runIpam(args: readonly string[], deps: Partial<IpamCliDeps>): Promise<Run> {
  return runIpamWith(args, { now: () => T0, listLivePods: async () => [], listNodeNames: async () => [], podExists: async () => false, ...deps });
}

/**
 * Runs `ipam <args>` with exactly the given dependencies (the rest real), capturing output and exit code.
 * Commander's usage errors reject with its CommanderError (the command never ends the process).
 */
export async function runIpamWith(args: readonly string[], deps: Partial<IpamCliDeps>, sink?: { stdout: string; stderr: string }): Promise<Run> {
  let stdout = '';
  let stderr = '';
  let code: number | undefined;
  const command = ipamCommand({
    ...deps,
    stdout: (text) => {
      stdout += text;
      if (sink !== undefined) sink.stdout += text;
    },
    stderr: (text) => {
      stderr += text;
      if (sink !== undefined) sink.stderr += text;
    },
    setExitCode: (c) => {
      code = c;
    },
  });
  await command.parseAsync([...args], { from: 'user' });
  return { code, stdout, stderr };
}

/** Everything the store holds, to compare before and after a command that must not write. */
export async function snapshot(store: IpamStore): Promise<string> {
  const [pools, blocks, handles, config] = await Promise.all([
    store.listPools(),
    store.listBlocks(),
    store.listHandles(),
    store.getIpamConfig(),
  ]);
  const byName = <T extends { object: { metadata: { name: string } } }>(list: T[]): T[] =>
    [...list].sort((a, b) => a.object.metadata.name.localeCompare(b.object.metadata.name));
  return JSON.stringify({ pools: byName(pools), blocks: byName(blocks), handles: byName(handles), config });
}

/** A fresh memory store with the running example, wrapped so that commands can close it. */
export async function exampleStore(): Promise<{ store: KeepOpen; ipam: Ipam; memory: MemoryIpamStore }> {
  const memory = new MemoryIpamStore();
  const ipam = await seedRunningExample(memory);
  return { store: new KeepOpen(memory), ipam, memory };
}
