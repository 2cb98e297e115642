import type { KubeClient } from '@hostnic/runtime/kube/http';
import { registerHostnicCrds, startFakeKubeApiServer } from '@hostnic/sandbox/kube';
import type { FakeKubeApiServer, FakeKubeApiServerOptions } from '@hostnic/sandbox/kube';
import { kubeClientOf } from '../kube-client.ts';

export interface Kube {
  server: FakeKubeApiServer;
  client: KubeClient;
  /** A separate client, as another replica would have; closed by close(). */
  newClient(): KubeClient;
  /** Closes every client, then the server. */
  close(): Promise<void>;
}

export async function startKube(options: FakeKubeApiServerOptions = {}): Promise<Kube> {
  const server = await startFakeKubeApiServer(options);
  registerHostnicCrds(server);
  const clients: KubeClient[] = [];
  const newClient = (): KubeClient => {
    const client = kubeClientOf(server);
    clients.push(client);
    return client;
  };
  return {
    server,
    client: newClient(),
    newClient,
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
    },
  };
}

/** Polls until the check passes; the timeout only bounds a failing test. */
export async function eventually(check: () => boolean, what = 'condition', timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
