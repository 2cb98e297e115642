import { KubeConfig } from '@kubernetes/client-node';
import { registerHostnicCrds, startFakeKubeApiServer } from '@hostnic/sandbox/kube';
import type { FakeKubeApiServer, FakeKubeApiServerOptions } from '@hostnic/sandbox/kube';

export interface Kube {
  server: FakeKubeApiServer;
  kubeConfig: KubeConfig;
  /** A separate client configuration, as another replica would have. */
  newKubeConfig(): KubeConfig;
}

export async function startKube(options: FakeKubeApiServerOptions = {}): Promise<Kube> {
  const server = await startFakeKubeApiServer(options);
  registerHostnicCrds(server);
  const newKubeConfig = (): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig());
    return kc;
  };
  return { server, kubeConfig: newKubeConfig(), newKubeConfig };
}

/** Polls until the check passes; the timeout only bounds a failing test. */
export async function eventually(check: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
