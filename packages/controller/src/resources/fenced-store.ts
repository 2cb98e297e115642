import type { IPAMBlock, IPAMHandle, IPPool, IPPoolStatus, IpamConfigData, IpamStore, Versioned } from '@hostnic/ipam';
import type { Fence } from '../fence.ts';

/** The IPAM store with every write behind the leader fence; reads pass through. */
export function fencedStore(store: IpamStore, fence: Fence): IpamStore {
  return {
    getPool: (name) => store.getPool(name),
    listPools: () => store.listPools(),
    createPool(pool: IPPool): Promise<Versioned<IPPool>> {
      fence.check('create IPPool');
      return store.createPool(pool);
    },
    updatePool(pool: IPPool, version: string) {
      fence.check('update IPPool');
      return store.updatePool(pool, version);
    },
    updatePoolStatus(name: string, status: IPPoolStatus, version: string) {
      fence.check('update IPPool status');
      return store.updatePoolStatus(name, status, version);
    },
    deletePool(name: string, version?: string) {
      fence.check('delete IPPool');
      return store.deletePool(name, version);
    },
    getBlock: (name) => store.getBlock(name),
    listBlocks: (options) => store.listBlocks(options),
    createBlock(block: IPAMBlock) {
      fence.check('create IPAMBlock');
      return store.createBlock(block);
    },
    updateBlock(block: IPAMBlock, version: string) {
      fence.check('update IPAMBlock');
      return store.updateBlock(block, version);
    },
    deleteBlock(name: string, version?: string) {
      fence.check('delete IPAMBlock');
      return store.deleteBlock(name, version);
    },
    getHandle: (name) => store.getHandle(name),
    listHandles: () => store.listHandles(),
    createHandle(handle: IPAMHandle) {
      fence.check('create IPAMHandle');
      return store.createHandle(handle);
    },
    updateHandle(handle: IPAMHandle, version: string) {
      fence.check('update IPAMHandle');
      return store.updateHandle(handle, version);
    },
    deleteHandle(name: string, version?: string) {
      fence.check('delete IPAMHandle');
      return store.deleteHandle(name, version);
    },
    getIpamConfig: () => store.getIpamConfig(),
    setIpamConfig(data: IpamConfigData, version?: string) {
      fence.check('update ConfigMap hostnic-ipam-config');
      return store.setIpamConfig(data, version);
    },
    close: () => store.close(),
  };
}
