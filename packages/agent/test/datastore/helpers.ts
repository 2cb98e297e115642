import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import type { Key } from 'lmdb';
import { afterEach } from 'vitest';
import { AgentDatastore } from '../../src/datastore/index.ts';
import type { AgentDatastoreOptions } from '../../src/datastore/index.ts';
import type { NicRecord, PodRecord } from '../../src/types.ts';

const dirs: string[] = [];
const stores: AgentDatastore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the OS temp dir, removed after the test. A dot in the name, as lmdb's trap. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hostnic-agent-ds.'));
  dirs.push(dir);
  return dir;
}

/** Opens a store that is closed after the test. */
export function openStore(dir: string = tempDir(), options?: AgentDatastoreOptions): AgentDatastore {
  const store = AgentDatastore.open(dir, options);
  stores.push(store);
  return store;
}

/** Writes raw bytes into one of the store's databases, behind its back (the store must be closed). */
export async function writeRaw(dir: string, database: string, key: Key, bytes: Buffer): Promise<void> {
  const root = open<Buffer, Key>({ path: dir, noSubdir: false, encoding: 'binary' });
  try {
    root.openDB<Buffer, Key>({ name: database, encoding: 'binary' }).putSync(key, bytes);
  } finally {
    await root.close();
  }
}

export function nic(n: number, overrides: Partial<NicRecord> = {}): NicRecord {
  const hex = n.toString(16).padStart(2, '0');
  return {
    nicId: `52:54:9e:d0:dd:${hex}`,
    vxnet: { vxnetId: `vxnet-${hex}`, gateway: `172.22.${n}.1`, network: `172.22.${n}.0/24`, tunnelType: 'vxlan' },
    routeTable: 260 + n,
    linkName: `hostnic_${hex}`,
    bridge: `br_${260 + n}`,
    phase: 'Succeeded',
    createdAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function pod(containerId: string, overrides: Partial<PodRecord> = {}): PodRecord {
  return {
    containerId,
    ifName: 'eth0',
    podNamespace: 'default',
    podName: `web-${containerId}`,
    infraContainerId: containerId,
    netns: `/proc/1/ns/net`,
    handleId: `default-web-${containerId}`,
    ip: '172.22.1.5',
    vxnetId: 'vxnet-01',
    nicId: '52:54:9e:d0:dd:01',
    hostVeth: `veth${containerId.slice(0, 8)}`,
    hostVethMac: 'aa:bb:cc:dd:ee:01',
    podMac: 'aa:bb:cc:dd:ee:02',
    createdAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}
