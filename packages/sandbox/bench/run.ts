/**
 * Benchmarks that need the sandbox: the IPAM allocator on the Kubernetes store against the fake kube-apiserver
 * over HTTP. Prints figures; asserts nothing.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { Ipam, StoreCallCounter, type IPPool } from '@hostnic/ipam';
import { kubernetesIpamStoreFromKubeConfig } from '@hostnic/ipam/kubernetes/client-node';
import { registerHostnicCrds, startFakeKubeApiServer } from '../src/kube/index.ts';

const POOL: IPPool = {
  metadata: { name: 'vxnet-bench01' },
  spec: {
    type: 'local',
    cidr: '10.8.0.0/20',
    rangeStart: '10.8.0.2',
    rangeEnd: '10.8.15.250',
    blockSize: 26,
    vlanConfig: { vlanId: 0, master: '' },
    dns: {},
  },
};
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);

async function scenario(allocators: number, perAllocator: number): Promise<void> {
  const server = await startFakeKubeApiServer();
  registerHostnicCrds(server);
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  const store = kubernetesIpamStoreFromKubeConfig(kc);
  try {
    await new Ipam(store).ensurePool(POOL);
    await store.setIpamConfig({ 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: [POOL.metadata.name] }) });
    const counters = Array.from({ length: allocators }, () => new StoreCallCounter());
    const ipams = counters.map((c, i) => ({ ipam: new Ipam(store, { cooldownMs: 0, onWrite: c.onWrite }), node: `node-${i}` }));
    const total = allocators * perAllocator;

    server.clearRequestLog();
    let started = performance.now();
    await Promise.all(
      ipams.map(async ({ ipam, node }) => {
        for (let i = 0; i < perAllocator; i++) {
          await ipam.allocate({ handleId: `${node}-pod-${i}`, namespace: 'default', pod: `pod-${i}`, node });
        }
      }),
    );
    const allocSeconds = (performance.now() - started) / 1000;
    const allocApiWrites = server.requestLog().filter((e) => WRITE_VERBS.has(e.verb ?? '') && e.status < 300).length;
    const allocStoreWrites = counters.reduce((n, c) => n + c.writes(), 0);

    server.clearRequestLog();
    started = performance.now();
    await Promise.all(
      ipams.map(async ({ ipam, node }) => {
        for (let i = 0; i < perAllocator; i++) await ipam.release(`${node}-pod-${i}`);
      }),
    );
    const releaseSeconds = (performance.now() - started) / 1000;
    const releaseApiWrites = server.requestLog().filter((e) => WRITE_VERBS.has(e.verb ?? '') && e.status < 300).length;
    const conflicts = counters.reduce((n, c) => n + c.conflicts(), 0);

    console.log(
      `ipam on the Kubernetes store (fake kube-apiserver over HTTP), ${allocators} allocator(s) x ${perAllocator}: ` +
        `${Math.round(total / allocSeconds)} allocations/s, ${Math.round(total / releaseSeconds)} releases/s, ` +
        `API writes per allocation ${(allocApiWrites / total).toFixed(2)} (store writes ${(allocStoreWrites / total).toFixed(2)}), ` +
        `per release ${(releaseApiWrites / total).toFixed(2)}, conflicts ${conflicts}`,
    );
  } finally {
    await store.close();
    await server.close();
  }
}

await scenario(1, 300);
await scenario(8, 60);
console.log('(for comparison: Calico writes 2 per allocation; hostnic-cni writes 2 per allocation and 3 per release: block, handle marked deleted, handle deleted)');
