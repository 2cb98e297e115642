import { KubeConfig } from '@kubernetes/client-node';
import type { IPPool } from '@hostnic/ipam';
import type { KubernetesIpamStore } from '@hostnic/ipam/kubernetes';
import { kubernetesIpamStoreFromKubeConfig } from '@hostnic/ipam/kubernetes/client-node';
import { registerHostnicCrds, startFakeKubeApiServer, type FakeKubeApiServer, type FakeKubeApiServerOptions } from '../../src/kube/index.ts';

export interface KubeRig {
  server: FakeKubeApiServer;
  kubeconfig: string;
  store(): KubernetesIpamStore;
  close(): Promise<void>;
}

/** A fake kube-apiserver with hostnic's CRDs, and Kubernetes IPAM stores talking to it. */
export async function startKubeRig(options: FakeKubeApiServerOptions = {}): Promise<KubeRig> {
  const server = await startFakeKubeApiServer(options);
  registerHostnicCrds(server);
  const kubeconfig = server.kubeconfig();
  const stores: KubernetesIpamStore[] = [];
  return {
    server,
    kubeconfig,
    store() {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfig);
      const s = kubernetesIpamStoreFromKubeConfig(kc);
      stores.push(s);
      return s;
    },
    async close() {
      await Promise.all(stores.map((s) => s.close()));
      await server.close();
    },
  };
}

export function pool(name: string, cidr: string, rangeStart: string, rangeEnd: string, blockSize: number): IPPool {
  return {
    metadata: { name },
    spec: { type: 'local', cidr, rangeStart, rangeEnd, blockSize, vlanConfig: { vlanId: 0, master: '' }, dns: {} },
  };
}

export function mapping(ipam: Record<string, string[]>): Record<string, string> {
  return { 'subnet-auto-assign': 'off', ipam: JSON.stringify(ipam) };
}
